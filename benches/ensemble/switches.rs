//! Voluntary context switches of a server's threads: how many times a thread went to sleep
//! to wait, so how many wake-ups the work took, a count the machine's load hardly moves
//! where the latency of a write one at a time moves with every neighbour. Each hand-off
//! between threads is one, and on a VM whose idle vCPUs halt, each costs tens of µs of that
//! latency. (Involuntary switches, a thread preempted, count the neighbours instead.)

/// Voluntary context switches so far of every thread of the processes `pids` (from
/// `/proc/PID/task/*/status`); threads that ended are not counted.
pub fn context_switches(pids: &[u32]) -> u64 {
    let mut total = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                continue;
            };
            total += status
                .lines()
                .filter(|l| l.starts_with("voluntary_ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
    }
    total
}
