//! A tiny SMTP server for tests: it answers EHLO/HELO/MAIL/RCPT/DATA/RSET/NOOP/QUIT, keeps
//! every message with its envelope, and can be told to refuse recipients (a failing server).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message the sink received.
#[derive(Clone, Debug)]
pub struct SinkMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-stuffing undone).
    pub data: String,
}

impl SinkMail {
    fn split(&self) -> (&str, &str) {
        self.data.split_once("\r\n\r\n").unwrap_or((&self.data, ""))
    }

    /// A header's value (unfolded), by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.split();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    /// The body, decoded from quoted-printable or base64 when so encoded.
    pub fn body(&self) -> String {
        let (_, body) = self.split();
        match self.header("Content-Transfer-Encoding").map(|e| e.to_lowercase()).as_deref() {
            Some("base64") => {
                let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Some("quoted-printable") => decode_qp(body),
            _ => body.to_owned(),
        }
    }
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(b) = joined.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct SinkState {
    mails: Vec<SinkMail>,
    refuse: bool,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    state: Arc<Mutex<SinkState>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(SinkState::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let state = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(socket, state).await;
                });
            }
        });
        SmtpSink { port, state }
    }

    /// The URL to configure the server with (`CX_SMTP_URL`).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// While set, every recipient is refused with a 550.
    pub fn refuse(&self, on: bool) {
        self.state.lock().unwrap().refuse = on;
    }

    pub fn mails(&self) -> Vec<SinkMail> {
        self.state.lock().unwrap().mails.clone()
    }

    /// Mails to `to`, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<SinkMail> {
        self.mails().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
    }

    /// Waits until `n` mails to `to` arrived; returns the newest.
    pub async fn wait_for(&self, to: &str, n: usize) -> SinkMail {
        for _ in 0..200 {
            let mails = self.mails_to(to);
            if mails.len() >= n {
                return mails.into_iter().next_back().unwrap();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the sink never got {n} mail(s) to {to}: {:?}", self.mails());
    }
}

/// The address inside `<…>` of a MAIL FROM / RCPT TO argument.
fn address(arg: &str) -> String {
    match (arg.find('<'), arg.find('>')) {
        (Some(a), Some(b)) if a < b => arg[a + 1..b].to_owned(),
        _ => arg.trim().to_owned(),
    }
}

async fn serve(socket: TcpStream, state: Arc<Mutex<SinkState>>) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::<String>::new());
    loop {
        let mut raw = Vec::new();
        if read.read_until(b'\n', &mut raw).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw).trim_end().to_owned();
        let upper = line.to_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line[10..]);
            to.clear();
            b"250 2.1.0 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            if state.lock().unwrap().refuse {
                b"550 5.1.1 mailbox unavailable\r\n"
            } else {
                to.push(address(&line[8..]));
                b"250 2.1.5 OK\r\n"
            }
        } else if upper == "DATA" {
            write.write_all(b"354 end data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            loop {
                let mut raw = Vec::new();
                if read.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                let l = String::from_utf8_lossy(&raw).into_owned();
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
            }
            let mail = SinkMail { from: from.clone(), to: std::mem::take(&mut to), data };
            state.lock().unwrap().mails.push(mail);
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 command not recognized\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// The invitation token in a mail body (after `token=`).
pub fn token_in(body: &str) -> String {
    let start = body.find("token=").map(|i| i + 6).unwrap_or_else(|| panic!("no token in {body:?}"));
    body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// The 6-digit login code in a mail body.
pub fn code_in(body: &str) -> String {
    let digits: Vec<char> = body.chars().collect();
    for w in 0..digits.len().saturating_sub(5) {
        let window: String = digits[w..w + 6].iter().collect();
        let before = w.checked_sub(1).map(|i| digits[i].is_ascii_digit()).unwrap_or(false);
        let after = digits.get(w + 6).is_some_and(|c| c.is_ascii_digit());
        if window.chars().all(|c| c.is_ascii_digit()) && !before && !after {
            return window;
        }
    }
    panic!("no code in {body:?}");
}

#[test]
fn quoted_printable_and_dot_stuffing_are_undone() {
    assert_eq!(decode_qp("token=3Dabc=\r\ndef"), "token=abcdef");
    let m = SinkMail {
        from: "a@b".into(),
        to: vec!["c@d".into()],
        data: "Subject: Hi\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nlink ?token=3DxY_z-1\r\n".into(),
    };
    assert_eq!(m.header("subject").as_deref(), Some("Hi"));
    assert_eq!(token_in(&m.body()), "xY_z-1");
    assert_eq!(code_in("Your code is 042917\n"), "042917");
}
