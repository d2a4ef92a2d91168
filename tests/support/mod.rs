//! Helpers shared by the tests that run the shipped binaries.
#![allow(dead_code)]

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

/// Kills the child process when dropped, so a failing test leaves nothing running.
pub struct Running {
    pub child: Child,
    output: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    pub fn spawn(binary: &str, args: &[&str], env: &[(&str, String)]) -> Running {
        let path = binary_path(binary);
        let mut command = Command::new(&path);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Running {
            child,
            output: rx,
            log: Vec::new(),
        }
    }

    /// Waits for an output line containing `needle` and returns it.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.output.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        self.drain();
                        panic!(
                            "process exited with {status} before printing {needle:?}:\n{}",
                            self.log.join("\n")
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        self.drain();
        panic!(
            "no line with {needle:?} within {timeout:?}:\n{}",
            self.log.join("\n")
        );
    }

    pub fn drain(&mut self) -> String {
        while let Ok(line) = self.output.try_recv() {
            self.log.push(line);
        }
        self.log.join("\n")
    }
}

/// Binaries of the other workspace packages sit beside this test's own directory.
pub fn binary_path(name: &str) -> PathBuf {
    if name == "mirror-maestro" {
        return PathBuf::from(env!("CARGO_BIN_EXE_mirror-maestro"));
    }
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the workspace first (cargo build --workspace)",
        path.display()
    );
    path
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
