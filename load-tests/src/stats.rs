//! Percentiles, CPU and memory readings from /proc, machine facts, the open-file limit.

use std::time::Instant;

use serde_json::{Value, json};

use crate::Result;

/// Latency summary of samples in microseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Lat {
    pub count: usize,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

impl Lat {
    /// Sorts `samples` in place (no histogram crate: a few million u64 sort in well under a second).
    pub fn of(samples: &mut [u64]) -> Lat {
        if samples.is_empty() {
            return Lat::default();
        }
        samples.sort_unstable();
        Lat {
            count: samples.len(),
            p50_us: percentile(samples, 50.0),
            p99_us: percentile(samples, 99.0),
            max_us: samples[samples.len() - 1],
        }
    }

    pub fn p50_ms(&self) -> String {
        ms(self.p50_us, self.count)
    }

    pub fn p99_ms(&self) -> String {
        ms(self.p99_us, self.count)
    }

    pub fn max_ms(&self) -> String {
        ms(self.max_us, self.count)
    }

    pub fn json(&self) -> Value {
        if self.count == 0 {
            return json!(null);
        }
        json!({
            "count": self.count,
            "p50Ms": self.p50_us as f64 / 1000.0,
            "p99Ms": self.p99_us as f64 / 1000.0,
            "maxMs": self.max_us as f64 / 1000.0,
        })
    }
}

fn ms(us: u64, count: usize) -> String {
    if count == 0 {
        "-".into()
    } else if us < 10_000 {
        format!("{:.2}", us as f64 / 1000.0)
    } else {
        format!("{:.0}", us as f64 / 1000.0)
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// CPU time of processes and of the whole machine over an interval, from /proc.
pub struct CpuMeter {
    pids: Vec<u32>,
    started: Instant,
    proc_ticks: Vec<u64>,
    self_ticks: u64,
    /// PostgreSQL and Redis processes at the start, with their ticks.
    services: Vec<(u32, u64)>,
    machine: (u64, u64),
}

/// CPU use over an interval, in percent of one core (the machine has `cores() * 100`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuUse {
    /// The measured child processes together.
    pub children: f64,
    /// This generator process.
    pub generator: f64,
    /// PostgreSQL and Redis processes.
    pub services: f64,
    /// Everything else: other processes on the machine and kernel time not charged to a
    /// process (interrupts), competing with the test.
    pub other: f64,
    /// The whole machine, percent of all cores.
    pub machine_busy: f64,
}

impl CpuUse {
    pub fn json(&self) -> Value {
        json!({
            "serverCpuPct": round1(self.children),
            "generatorCpuPct": round1(self.generator),
            "postgresRedisCpuPct": round1(self.services),
            "otherCpuPct": round1(self.other),
            "machineBusyPct": round1(self.machine_busy),
        })
    }

    /// A short label for tables: server / generator / db+redis / other, % of one core.
    pub fn label(&self) -> String {
        format!("{:.0}/{:.0}/{:.0}/{:.0}", self.children, self.generator, self.services, self.other)
    }

    /// What the figure was probably bounded by.
    pub fn bound(&self) -> String {
        if self.machine_busy >= 90.0 {
            if self.other >= 30.0 {
                format!("CPU: all busy, o={:.0}% elsewhere", self.other)
            } else {
                "CPU: all cores busy".into()
            }
        } else if self.children >= 90.0 {
            "server busy on ~1 core".into()
        } else {
            "not CPU (I/O, locks or offered load)".into()
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

impl CpuMeter {
    pub fn start(pids: &[u32]) -> CpuMeter {
        CpuMeter {
            pids: pids.to_vec(),
            started: Instant::now(),
            proc_ticks: pids.iter().map(|p| process_ticks(*p).unwrap_or(0)).collect(),
            self_ticks: process_ticks(std::process::id()).unwrap_or(0),
            services: service_pids().into_iter().map(|p| (p, process_ticks(p).unwrap_or(0))).collect(),
            machine: machine_ticks().unwrap_or((0, 0)),
        }
    }

    pub fn stop(&self) -> CpuUse {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let hz = clock_ticks_per_sec();
        let pct = |ticks: u64| 100.0 * ticks as f64 / hz / secs;
        let children: u64 = self
            .pids
            .iter()
            .zip(&self.proc_ticks)
            .map(|(p, before)| process_ticks(*p).unwrap_or(*before).saturating_sub(*before))
            .sum();
        let me = process_ticks(std::process::id()).unwrap_or(self.self_ticks).saturating_sub(self.self_ticks);
        // A database backend started during the interval counts whole.
        let services: u64 = service_pids()
            .into_iter()
            .map(|p| {
                let now = process_ticks(p).unwrap_or(0);
                let before = self.services.iter().find(|(q, _)| *q == p).map(|(_, t)| *t).unwrap_or(0);
                now.saturating_sub(before)
            })
            .sum();
        let (busy1, total1) = machine_ticks().unwrap_or(self.machine);
        let (busy0, total0) = self.machine;
        let machine_busy =
            if total1 > total0 { 100.0 * (busy1 - busy0) as f64 / (total1 - total0) as f64 } else { 0.0 };
        let all_cores = machine_busy * cores() as f64;
        let (children, generator, services) = (pct(children), pct(me), pct(services));
        CpuUse {
            children,
            generator,
            services,
            other: (all_cores - children - generator - services).max(0.0),
            machine_busy,
        }
    }
}

/// PostgreSQL and Redis server processes (by command name).
fn service_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .map(|c| {
                    let c = c.trim();
                    c == "postgres" || c.starts_with("redis-server")
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to `max` for the machine to be mostly idle, so another job's burst does not land
/// in the measurements; returns the busy % of the last second.
pub async fn wait_for_quiet(max: std::time::Duration) -> f64 {
    let deadline = Instant::now() + max;
    loop {
        let m = CpuMeter::start(&[]);
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let busy = m.stop().machine_busy;
        if busy < 25.0 || Instant::now() > deadline {
            return busy;
        }
    }
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// utime + stime of a process, in clock ticks.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are 12 and 13 after "pid (comm) ".
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// (busy, total) ticks of all CPUs.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no VmRSS for pid {pid}").into())
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

pub fn machine_info() -> Value {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_total_kib: Option<u64> = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()).ok();
    json!({
        "nproc": cores(),
        "memTotalKiB": mem_total_kib,
        "cpuModel": cpu_model,
        "kernel": kernel,
        "openFileLimit": nofile_limit().ok(),
        "date": chrono::Utc::now().to_rfc3339(),
    })
}

pub fn nofile_limit() -> Result<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(lim.rlim_cur)
}

/// Raises the open-file limit: to 65,536 if allowed (root may raise the hard limit), else the
/// soft limit to the hard one. Thousands of sockets need it on both ends.
pub fn raise_nofile_limit() -> Result<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return Err(std::io::Error::last_os_error().into());
        }
        let want: libc::rlim_t = 65_536;
        if lim.rlim_max < want {
            let raised = libc::rlimit { rlim_cur: want, rlim_max: want };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return Ok(want);
            }
        }
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error().into());
            }
        }
    }
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        let l = Lat::of(&mut v);
        assert_eq!((l.count, l.p50_us, l.p99_us, l.max_us), (100, 50, 99, 100));
        let mut one = vec![7];
        assert_eq!(Lat::of(&mut one).p99_us, 7);
    }
}
