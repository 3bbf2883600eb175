//! The `Dockerfile` written beside compose and Kubernetes exports when the topology sits in
//! a crate: it builds the crate's node binaries and, for proxies, installs `hermes`.

use super::header;
use super::plan::Plan;

/// A two-stage Dockerfile: `rust:1-bookworm` builds, `debian:bookworm-slim` runs.
pub fn dockerfile(plan: &Plan<'_>, target: &str) -> String {
    let image = format!("{}:latest", plan.name.to_ascii_lowercase());
    let binaries: Vec<&str> = plan.crate_binaries().into_iter().collect();
    let mut text = header("#", target, plan);
    text.push_str(&format!(
        "# The image processes run from when the topology names none (`{image}`). Build it \
         from the\n# crate's directory:\n#   docker build -t {image} -f <this directory>/Dockerfile \
         <crate directory>\n# A crate inside a workspace: build from the workspace root with \
         `--build-arg CRATE=<path>`.\n\n"
    ));
    text.push_str(
        "FROM rust:1-bookworm AS build\n\
         # make builds libsodium, which libzmq links for CURVE (needed by the first build).\n\
         RUN apt-get update && apt-get install -y --no-install-recommends make \\\n    \
         && rm -rf /var/lib/apt/lists/*\n\
         ARG CRATE=.\n\
         WORKDIR /src\n\
         COPY . .\n\
         ENV CARGO_TARGET_DIR=/target\n\
         RUN cargo build --release --locked --bins --manifest-path \"$CRATE/Cargo.toml\"\n\
         RUN mkdir -p /out/bin",
    );
    if !binaries.is_empty() {
        text.push_str(" && cd /target/release && cp");
        for binary in &binaries {
            text.push(' ');
            text.push_str(binary);
        }
        text.push_str(" /out/bin/");
    }
    text.push('\n');
    if plan.runs_hermes() {
        text.push_str(
            "# Proxies run `hermes proxy`. From a Hermes checkout, pass \
             `--build-arg HERMES=\"--path hermes-cli\"`.\n\
             ARG HERMES=hermes-cli\n\
             RUN cargo install --locked --root /out $HERMES\n",
        );
    }
    text.push_str(
        "\nFROM debian:bookworm-slim\n\
         COPY --from=build /out/bin/ /usr/local/bin/\n\
         WORKDIR /etc/hermes\n",
    );
    text
}
