//! Python virtual environments for tests that judge Hermes with an outside tool (buf for the
//! `.proto` files, hermes-zmq 1.3 for the wire). Shared by hermes-build's and hermes-cli's
//! tests (`#[path]`), so installing is bounded and locked the same way everywhere.
//!
//! A venv is made on first use under cargo's target directory and reused by later runs; test
//! processes share it through a file lock. Without python3, its `venv` module or PyPI the
//! caller gets an error saying why, and the test fails: it is never skipped.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The bound on making a virtual environment, downloads included.
pub const INSTALL_DEADLINE: Duration = Duration::from_secs(300);

/// The venv `<tmp>/<name>` with `packages` installed, made if it is not complete yet; `verify`
/// gives the command (run from the venv's directory) that must succeed before it counts as
/// made. Returns the venv's directory.
pub fn venv(
    tmp: &Path,
    name: &str,
    packages: &[&str],
    verify: impl Fn(&Path) -> Command,
) -> Result<PathBuf, String> {
    let venv = tmp.join(name);
    // Written last, so a venv whose install was cut short is made again, not half used.
    let ready = venv.join("hermes-venv-ready");
    let lock_path = tmp.join(format!("{name}.lock"));
    let lock = File::create(&lock_path).map_err(|err| format!("{}: {err}", lock_path.display()))?;
    let deadline = Instant::now() + INSTALL_DEADLINE + Duration::from_secs(60);
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                // Another test process is installing; its own deadline bounds this wait.
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(err) => return Err(format!("lock {}: {err}", lock_path.display())),
        }
    }
    if ready.exists() {
        return Ok(venv);
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).map_err(|err| format!("{}: {err}", venv.display()))?;
    }
    let log = tmp.join(format!("{name}.log"));
    File::create(&log).map_err(|err| format!("{}: {err}", log.display()))?;
    let deadline = Instant::now() + INSTALL_DEADLINE;
    let python = venv.join("bin").join("python");
    let mut make = Command::new("python3");
    make.arg("-m").arg("venv").arg(&venv);
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "--timeout", "60", "--retries", "2"])
        .args(["--quiet", "--disable-pip-version-check"])
        .args(packages);
    let mut check = verify(&venv);
    for step in [&mut make, &mut install, &mut check] {
        let shown = format!("{step:?}");
        let status = run_until(step, deadline, &log, &log)?;
        if !status.success() {
            return Err(format!("{shown} failed ({status}){}", log_tail(&log)));
        }
    }
    File::create(&ready).map_err(|err| format!("{}: {err}", ready.display()))?;
    Ok(venv)
}

/// Runs `command` with its output appended to `stdout` and `stderr`, killing it at `deadline`.
pub fn run_until(
    command: &mut Command,
    deadline: Instant,
    stdout: &Path,
    stderr: &Path,
) -> Result<ExitStatus, String> {
    let shown = format!("{command:?}");
    let open = |path: &Path| {
        File::options()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|err| format!("{}: {err}", path.display()))
    };
    let mut child = command
        .stdin(Stdio::null())
        .stdout(open(stdout)?)
        .stderr(open(stderr)?)
        .spawn()
        .map_err(|err| format!("cannot run {shown}: {err}"))?;
    loop {
        if let Some(status) = child.try_wait().map_err(|err| err.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{shown} did not finish in time{}",
                log_tail(stderr)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last 20 lines of `log`, to say why a step failed.
pub fn log_tail(log: &Path) -> String {
    let mut text = String::new();
    let _ = File::open(log).and_then(|mut file| file.read_to_string(&mut text));
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    format!("; the end of {}:\n{tail}", log.display())
}
