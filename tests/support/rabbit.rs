//! A private RabbitMQ node for tests that stop and start the broker: its own node name,
//! ports, data and log directories and Erlang cookie, no plugins (so no management port), so
//! it never touches the shared broker other tests use.
//!
//! Included with `#[path]` by the test crates that need it, beside `mod support;`.

use std::{
    io::{BufRead, BufReader},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::support::free_port;

/// How long a node may take to start on a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A RabbitMQ node in a temporary directory. Stopped (and killed if needed) when dropped.
pub struct PrivateRabbit {
    dir: tempfile::TempDir,
    node: String,
    port: u16,
    dist_port: u16,
    server: Option<Child>,
    log: Arc<Mutex<Vec<String>>>,
}

/// The server script, run directly (the packaged wrapper in `/usr/sbin` switches to the
/// `rabbitmq` user and its home, which would share the system node's cookie and directories).
fn server_script() -> PathBuf {
    let packaged = Path::new("/usr/lib/rabbitmq/bin/rabbitmq-server");
    if packaged.is_file() {
        packaged.to_path_buf()
    } else {
        PathBuf::from("rabbitmq-server")
    }
}

fn ctl_script() -> PathBuf {
    let packaged = Path::new("/usr/lib/rabbitmq/bin/rabbitmqctl");
    if packaged.is_file() {
        packaged.to_path_buf()
    } else {
        PathBuf::from("rabbitmqctl")
    }
}

impl PrivateRabbit {
    /// Starts a new node and waits until it accepts AMQP connections; panics with the node's
    /// output when it cannot start.
    pub fn start() -> PrivateRabbit {
        let dir = tempfile::tempdir().expect("a temporary directory for RabbitMQ");
        std::fs::write(dir.path().join("enabled_plugins"), "[].\n").unwrap();
        let mut rabbit = PrivateRabbit {
            node: format!("mm-reliability-{}@localhost", std::process::id()),
            port: free_port(),
            dist_port: free_port(),
            dir,
            server: None,
            log: Arc::default(),
        };
        rabbit.start_again();
        rabbit
    }

    /// `amqp://` URL of the node.
    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn env(&self, command: &mut Command) {
        let base = self.dir.path();
        command
            .env("HOME", base)
            .env("RABBITMQ_NODENAME", &self.node)
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_MNESIA_BASE", base.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", base.join("log"))
            .env("RABBITMQ_LOGS", "-")
            .env("RABBITMQ_PID_FILE", base.join("rabbit.pid"))
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                base.join("enabled_plugins"),
            )
            .env("RABBITMQ_CONFIG_FILE", base.join("rabbitmq"))
            .env(
                "RABBITMQ_ADVANCED_CONFIG_FILE",
                base.join("advanced.config"),
            );
    }

    /// Starts the node on its existing data (its queues and their messages survive).
    pub fn start_again(&mut self) {
        assert!(self.server.is_none(), "the node is running already");
        // "startup complete" of the previous run must not count for this one.
        self.log.lock().unwrap().clear();
        let mut command = Command::new(server_script());
        self.env(&mut command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot start {} ({error}); the reliability tests need a RabbitMQ server \
                 installation",
                server_script().display()
            )
        });
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = self.log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    log.lock().unwrap().push(line);
                }
            });
        }
        self.server = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.accepts_amqp() && self.logged("Server startup complete") {
                return;
            }
            if let Some(status) = self.server.as_mut().unwrap().try_wait().unwrap() {
                self.server = None;
                panic!(
                    "the private RabbitMQ node exited with {status} while starting:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the private RabbitMQ node did not start within {START_TIMEOUT:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the node the way an operator does (`rabbitmqctl stop`) and waits for it to exit.
    pub fn stop(&mut self) {
        self.halt();
        assert!(
            !self.accepts_amqp(),
            "the node still accepts connections after stopping"
        );
    }

    fn halt(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let mut command = Command::new(ctl_script());
        self.env(&mut command);
        let stopped = command
            .args(["-n", &self.node, "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while stopped && Instant::now() < deadline {
            if server.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = server.kill();
        let _ = server.wait();
    }

    fn accepts_amqp(&self) -> bool {
        TcpStream::connect_timeout(
            &([127, 0, 0, 1], self.port).into(),
            Duration::from_millis(200),
        )
        .is_ok()
    }

    fn logged(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// Everything the node printed (for failure messages).
    pub fn output(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
}

impl Drop for PrivateRabbit {
    fn drop(&mut self) {
        self.halt();
    }
}
