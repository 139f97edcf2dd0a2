
use builtin;
use str;

set edit:completion:arg-completer[sysprims] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'sysprims'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'sysprims'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand pstat 'List processes, with filters, sorting and CPU sampling'
            cand descendants 'List the descendants of a process: children, grandchildren, and so on'
            cand kill 'Send a signal to processes'
            cand fds 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags'
            cand ports 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`'
            cand spawn 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once'
            cand wait 'Wait for a process to end: any process, not only a child of this command'
            cand terminate-tree 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left'
            cand kill-descendants 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled'
            cand run 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time'
            cand completions 'Print a completion script for SHELL on stdout'
            cand manpages 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command'
            cand timeout 'Run a command with a time limit: GNU timeout''s options and exit statuses, and the whole tree dies on a timeout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sysprims;pstat'= {
            cand --pid 'Only these PIDs (repeat the option or separate with commas)'
            cand --name 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it'
            cand --user 'Effective user, by name or UID'
            cand --ppid 'Parent PID'
            cand --state 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)'
            cand --cpu-above 'CPU use above PERCENT (of one CPU)'
            cand --memory-above 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)'
            cand --running-for 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)'
            cand --sample 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages'
            cand --sort 'Sort by pid, name, cpu, memory or start_time (cpu and memory busiest first; start_time oldest first)'
            cand --top 'Show only the first N after sorting'
            cand --exact 'With --name: the name must be exactly TEXT'
            cand --reverse 'Reverse the sort order'
            cand --env 'Include each process''s environment (JSON only; often holds secrets)'
            cand --json 'Print a JSON document (schema: schemas/process-snapshot.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;descendants'= {
            cand --max-levels 'How many levels below PID: a number (1 = children) or "all"'
            cand --tree 'Draw the tree in the COMMAND column'
            cand --json 'Print a JSON document (schema: schemas/process-tree.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;kill'= {
            cand -s 'The signal to send, by name or number (this platform''s number, as `kill -l` lists)'
            cand --signal 'The signal to send, by name or number (this platform''s number, as `kill -l` lists)'
            cand -l 'List signal names; with SIGNAL, convert a name to its number or a number (or an exit status above 128) to its name'
            cand --list 'List signal names; with SIGNAL, convert a name to its number or a number (or an exit status above 128) to its name'
            cand --require-start-time-ms 'Signal only if the process started at this time (Unix milliseconds, as `pstat --json` reports start_time_unix_ms)'
            cand --require-exe-path 'Signal only if the process runs this executable'
            cand --name 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it'
            cand --user 'Effective user, by name or UID'
            cand --ppid 'Parent PID'
            cand --state 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)'
            cand --cpu-above 'CPU use above PERCENT (of one CPU)'
            cand --memory-above 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)'
            cand --running-for 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)'
            cand --sample 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages'
            cand -L 'List signal numbers and names as a table'
            cand --table 'List signal numbers and names as a table'
            cand --exact 'With --name: the name must be exactly TEXT'
            cand --yes 'Send to the processes a filter selected (without it, they are only listed)'
            cand --dry-run 'Only show what would be signalled'
            cand --force 'Allow signalling PID 1, sysprims itself and its own process group'
            cand --json 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;fds'= {
            cand --kind 'Only fds of these kinds: file, directory (dir), socket, pipe, anon_inode (anon), char_device (char), block_device (block), unknown. Repeat or separate with commas'
            cand --json 'Print a JSON document (schema: schemas/fd-snapshot.v1.schema.json)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sysprims;ports'= {
            cand --port 'Only this local port (1-65535)'
            cand --pid 'Only sockets this process holds'
            cand --tcp 'TCP sockets (with --udp: both; neither: both)'
            cand --udp 'UDP sockets'
            cand --json 'Print a JSON document (schema: schemas/port-bindings.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;spawn'= {
            cand --cwd 'The job''s working directory (default: this command''s)'
            cand --env 'Set an environment variable for the job (repeatable; the last of a key wins)'
            cand --containment 'What holds the job: a cgroup if one can be made, else a process group (auto); a cgroup or fail (cgroup); a process group only (process_group)'
            cand --stdin 'Read standard input from FILE (default: /dev/null)'
            cand --stdout 'Write standard output to FILE, created if missing, truncated unless --append (default: /dev/null)'
            cand --stderr 'Write standard error to FILE, created if missing, truncated unless --append (default: /dev/null). The same FILE as --stdout shares it, as `>FILE 2>&1` does'
            cand --env-clear 'Start from an empty environment (then add the --env variables) instead of this command''s'
            cand --append 'Append to the --stdout and --stderr files instead of truncating them'
            cand --inherit-stdio 'Pass this command''s own stdin, stdout and stderr to the job where no FILE is given, instead of /dev/null (see "Standard streams" below)'
            cand --json 'Print a JSON document (schema: schemas/spawn-in-group-result.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;wait'= {
            cand --timeout 'Give up after DURATION (e.g. 500ms, 30s, 5m); 0 checks without waiting. Default: no limit'
            cand --json 'Print a JSON document (schema: schemas/wait-pid-result.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;terminate-tree'= {
            cand -s 'The graceful signal, by name or number'
            cand --signal 'The graceful signal, by name or number'
            cand --grace 'How long to wait for the tree to end after the signal before escalating'
            cand --kill-signal 'The signal to escalate with'
            cand --kill-after 'How long to wait after the kill signal before giving up and reporting survivors'
            cand --require-start-time-ms 'Act only if PID started at this time (Unix milliseconds, as `sysprims spawn` and `pstat --json` report start_time_unix_ms)'
            cand --require-exe-path 'Act only if PID runs this executable'
            cand --force 'Allow PID 1 and sysprims itself as the root'
            cand --json 'Print a JSON document (schema: schemas/terminate-tree-result.v1.schema.json)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;kill-descendants'= {
            cand -s 'The signal to send, by name or number'
            cand --signal 'The signal to send, by name or number'
            cand --name 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it'
            cand --user 'Effective user, by name or UID'
            cand --ppid 'Parent PID'
            cand --state 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)'
            cand --cpu-above 'CPU use above PERCENT (of one CPU)'
            cand --memory-above 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)'
            cand --running-for 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)'
            cand --sample 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages'
            cand --exact 'With --name: the name must be exactly TEXT'
            cand --yes 'Send the signal (without it, the descendants are only listed)'
            cand --dry-run 'Only show what would be signalled (the default without --yes)'
            cand --force 'Allow PID 1 as the root (every process on the machine descends from it), and sysprims itself among the targets'
            cand --json 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'sysprims;run'= {
            cand --memory-max 'The most memory the whole job may use (cgroup memory.max); past it the kernel''s OOM killer ends a process of the job'
            cand --memory-swap-max 'The most swap the whole job may use (memory.swap.max); 0 is none'
            cand --pids-max 'The most processes and threads the job may have at once (pids.max): a fork past it fails'
            cand --cpu-max 'The CPU the whole job may use, in CPUs: 0.5 is half of one, 2 is two (cpu.max)'
            cand --timeout 'End the job if it is still running after DURATION (--signal, then SIGKILL after --kill-after); exit 124. Default: no deadline'
            cand -s 'The signal that ends the job at the deadline, and what the command left running after it exited (default TERM)'
            cand --signal 'The signal that ends the job at the deadline, and what the command left running after it exited (default TERM)'
            cand -k 'SIGKILL the job if it is still running this long after --signal. Default: at once for leftovers, never for a command past its --timeout (as GNU timeout without -k)'
            cand --kill-after 'SIGKILL the job if it is still running this long after --signal. Default: at once for leftovers, never for a command past its --timeout (as GNU timeout without -k)'
            cand --containment 'What holds the job: a cgroup if one can be made, else a process group with no usage and no limits, each said in a warning (auto); a cgroup or fail with exit 125 (cgroup)'
            cand --json 'Write the report as a JSON document to FILE instead of the text report on stderr (schema: schemas/run-report.v1.schema.json)'
            cand --foreground 'Leave this command''s process group as it is (the command joins it, and can read the terminal from a script), instead of making one of its own as GNU timeout does'
            cand -v 'Say on stderr each signal sent to the job'
            cand --verbose 'Say on stderr each signal sent to the job'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;manpages'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'sysprims;timeout'= {
            cand -k 'Also send KILL if COMMAND is still running this long after the signal'
            cand --kill-after 'Also send KILL if COMMAND is still running this long after the signal'
            cand -s 'The signal sent on timeout (default TERM): a name like HUP, or a number'
            cand --signal 'The signal sent on timeout (default TERM): a name like HUP, or a number'
            cand --json 'Write a JSON report of the run to FILE (schema: timeout-report v1)'
            cand --help 'Print help'
            cand --version 'Print version'
            cand --preserve-status 'Exit with the same status as COMMAND, even when the command times out'
            cand --foreground 'Leave COMMAND in this process group: it can read the TTY and gets TTY signals'
            cand -v 'Diagnose to stderr any signal sent upon timeout'
            cand --verbose 'Diagnose to stderr any signal sent upon timeout'
            cand --cleanup 'When COMMAND exits before DURATION, also end what it left running'
        }
        &'sysprims;help'= {
            cand pstat 'List processes, with filters, sorting and CPU sampling'
            cand descendants 'List the descendants of a process: children, grandchildren, and so on'
            cand kill 'Send a signal to processes'
            cand fds 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags'
            cand ports 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`'
            cand spawn 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once'
            cand wait 'Wait for a process to end: any process, not only a child of this command'
            cand terminate-tree 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left'
            cand kill-descendants 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled'
            cand run 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time'
            cand completions 'Print a completion script for SHELL on stdout'
            cand manpages 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command'
            cand timeout 'Run a command with a time limit: GNU timeout''s options and exit statuses, and the whole tree dies on a timeout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'sysprims;help;pstat'= {
        }
        &'sysprims;help;descendants'= {
        }
        &'sysprims;help;kill'= {
        }
        &'sysprims;help;fds'= {
        }
        &'sysprims;help;ports'= {
        }
        &'sysprims;help;spawn'= {
        }
        &'sysprims;help;wait'= {
        }
        &'sysprims;help;terminate-tree'= {
        }
        &'sysprims;help;kill-descendants'= {
        }
        &'sysprims;help;run'= {
        }
        &'sysprims;help;completions'= {
        }
        &'sysprims;help;manpages'= {
        }
        &'sysprims;help;timeout'= {
        }
        &'sysprims;help;help'= {
        }
    ]
    $completions[$command]
}
