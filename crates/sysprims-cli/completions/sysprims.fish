# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_sysprims_global_optspecs
    string join \n h/help V/version
end

function __fish_sysprims_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_sysprims_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_sysprims_using_subcommand
    set -l cmd (__fish_sysprims_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c sysprims -n "__fish_sysprims_needs_command" -s h -l help -d 'Print help'
complete -c sysprims -n "__fish_sysprims_needs_command" -s V -l version -d 'Print version'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "pstat" -d 'List processes, with filters, sorting and CPU sampling'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "descendants" -d 'List the descendants of a process: children, grandchildren, and so on'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "kill" -d 'Send a signal to processes'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "fds" -d 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "ports" -d 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "spawn" -d 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "wait" -d 'Wait for a process to end: any process, not only a child of this command'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "terminate-tree" -d 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "kill-descendants" -d 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "run" -d 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "completions" -d 'Print a completion script for SHELL on stdout'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "manpages" -d 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "timeout" -d 'Run a command with a time limit: GNU timeout\'s options and exit statuses, and the whole tree dies on a timeout'
complete -c sysprims -n "__fish_sysprims_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l pid -d 'Only these PIDs (repeat the option or separate with commas)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l name -d 'Name contains TEXT, case-sensitively. The name is the kernel\'s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l user -d 'Effective user, by name or UID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l ppid -d 'Parent PID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l state -d 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l cpu-above -d 'CPU use above PERCENT (of one CPU)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l memory-above -d 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l running-for -d 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l sample -d 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l sort -d 'Sort by pid, name, cpu, memory or start_time (cpu and memory busiest first; start_time oldest first)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l top -d 'Show only the first N after sorting' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l exact -d 'With --name: the name must be exactly TEXT'
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l reverse -d 'Reverse the sort order'
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l env -d 'Include each process\'s environment (JSON only; often holds secrets)'
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -l json -d 'Print a JSON document (schema: schemas/process-snapshot.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand pstat" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand descendants" -l max-levels -d 'How many levels below PID: a number (1 = children) or "all"' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand descendants" -l tree -d 'Draw the tree in the COMMAND column'
complete -c sysprims -n "__fish_sysprims_using_subcommand descendants" -l json -d 'Print a JSON document (schema: schemas/process-tree.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand descendants" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -s s -l signal -d 'The signal to send, by name or number (this platform\'s number, as `kill -l` lists)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -s l -l list -d 'List signal names; with SIGNAL, convert a name to its number or a number (or an exit status above 128) to its name' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l require-start-time-ms -d 'Signal only if the process started at this time (Unix milliseconds, as `pstat --json` reports start_time_unix_ms)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l require-exe-path -d 'Signal only if the process runs this executable' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l name -d 'Name contains TEXT, case-sensitively. The name is the kernel\'s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l user -d 'Effective user, by name or UID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l ppid -d 'Parent PID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l state -d 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l cpu-above -d 'CPU use above PERCENT (of one CPU)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l memory-above -d 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l running-for -d 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l sample -d 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -s L -l table -d 'List signal numbers and names as a table'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l exact -d 'With --name: the name must be exactly TEXT'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l yes -d 'Send to the processes a filter selected (without it, they are only listed)'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l dry-run -d 'Only show what would be signalled'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l force -d 'Allow signalling PID 1, sysprims itself and its own process group'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -l json -d 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand fds" -l kind -d 'Only fds of these kinds: file, directory (dir), socket, pipe, anon_inode (anon), char_device (char), block_device (block), unknown. Repeat or separate with commas' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand fds" -l json -d 'Print a JSON document (schema: schemas/fd-snapshot.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand fds" -s h -l help -d 'Print help'
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -l port -d 'Only this local port (1-65535)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -l pid -d 'Only sockets this process holds' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -l tcp -d 'TCP sockets (with --udp: both; neither: both)'
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -l udp -d 'UDP sockets'
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -l json -d 'Print a JSON document (schema: schemas/port-bindings.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand ports" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l cwd -d 'The job\'s working directory (default: this command\'s)' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l env -d 'Set an environment variable for the job (repeatable; the last of a key wins)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l containment -d 'What holds the job: a cgroup if one can be made, else a process group (auto); a cgroup or fail (cgroup); a process group only (process_group)' -r -f -a "auto\t''
cgroup\t''
process_group\t''
job_object\t'Windows: a Job Object, or fail'"
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l stdin -d 'Read standard input from FILE (default: /dev/null)' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l stdout -d 'Write standard output to FILE, created if missing, truncated unless --append (default: /dev/null)' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l stderr -d 'Write standard error to FILE, created if missing, truncated unless --append (default: /dev/null). The same FILE as --stdout shares it, as `>FILE 2>&1` does' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l env-clear -d 'Start from an empty environment (then add the --env variables) instead of this command\'s'
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l append -d 'Append to the --stdout and --stderr files instead of truncating them'
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l inherit-stdio -d 'Pass this command\'s own stdin, stdout and stderr to the job where no FILE is given, instead of /dev/null (see "Standard streams" below)'
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -l json -d 'Print a JSON document (schema: schemas/spawn-in-group-result.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand spawn" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand wait" -l timeout -d 'Give up after DURATION (e.g. 500ms, 30s, 5m); 0 checks without waiting. Default: no limit' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand wait" -l json -d 'Print a JSON document (schema: schemas/wait-pid-result.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -s s -l signal -d 'The graceful signal, by name or number' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l grace -d 'How long to wait for the tree to end after the signal before escalating' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l kill-signal -d 'The signal to escalate with' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l kill-after -d 'How long to wait after the kill signal before giving up and reporting survivors' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l require-start-time-ms -d 'Act only if PID started at this time (Unix milliseconds, as `sysprims spawn` and `pstat --json` report start_time_unix_ms)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l require-exe-path -d 'Act only if PID runs this executable' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l force -d 'Allow PID 1 and sysprims itself as the root'
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -l json -d 'Print a JSON document (schema: schemas/terminate-tree-result.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand terminate-tree" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -s s -l signal -d 'The signal to send, by name or number' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l name -d 'Name contains TEXT, case-sensitively. The name is the kernel\'s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l user -d 'Effective user, by name or UID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l ppid -d 'Parent PID' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l state -d 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l cpu-above -d 'CPU use above PERCENT (of one CPU)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l memory-above -d 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l running-for -d 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l sample -d 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l exact -d 'With --name: the name must be exactly TEXT'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l yes -d 'Send the signal (without it, the descendants are only listed)'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l dry-run -d 'Only show what would be signalled (the default without --yes)'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l force -d 'Allow PID 1 as the root (every process on the machine descends from it), and sysprims itself among the targets'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -l json -d 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)'
complete -c sysprims -n "__fish_sysprims_using_subcommand kill-descendants" -s h -l help -d 'Print help'
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l memory-max -d 'The most memory the whole job may use (cgroup memory.max); past it the kernel\'s OOM killer ends a process of the job' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l memory-swap-max -d 'The most swap the whole job may use (memory.swap.max); 0 is none' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l pids-max -d 'The most processes and threads the job may have at once (pids.max): a fork past it fails' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l cpu-max -d 'The CPU the whole job may use, in CPUs: 0.5 is half of one, 2 is two (cpu.max)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l timeout -d 'End the job if it is still running after DURATION (--signal, then SIGKILL after --kill-after); exit 124. Default: no deadline' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -s s -l signal -d 'The signal that ends the job at the deadline, and what the command left running after it exited (default TERM)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -s k -l kill-after -d 'SIGKILL the job if it is still running this long after --signal. Default: at once for leftovers, never for a command past its --timeout (as GNU timeout without -k)' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l containment -d 'What holds the job: a cgroup if one can be made, else a process group with no usage and no limits, each said in a warning (auto); a cgroup or fail with exit 125 (cgroup)' -r -f -a "auto\t''
cgroup\t''"
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l json -d 'Write the report as a JSON document to FILE instead of the text report on stderr (schema: schemas/run-report.v1.schema.json)' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -l foreground -d 'Leave this command\'s process group as it is (the command joins it, and can read the terminal from a script), instead of making one of its own as GNU timeout does'
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -s v -l verbose -d 'Say on stderr each signal sent to the job'
complete -c sysprims -n "__fish_sysprims_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand manpages" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -s k -l kill-after -d 'Also send KILL if COMMAND is still running this long after the signal' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -s s -l signal -d 'The signal sent on timeout (default TERM): a name like HUP, or a number' -r
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l json -d 'Write a JSON report of the run to FILE (schema: timeout-report v1)' -r -F
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l help -d 'Print help'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l version -d 'Print version'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l preserve-status -d 'Exit with the same status as COMMAND, even when the command times out'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l foreground -d 'Leave COMMAND in this process group: it can read the TTY and gets TTY signals'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -s v -l verbose -d 'Diagnose to stderr any signal sent upon timeout'
complete -c sysprims -n "__fish_sysprims_using_subcommand timeout" -l cleanup -d 'When COMMAND exits before DURATION, also end what it left running'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "pstat" -d 'List processes, with filters, sorting and CPU sampling'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "descendants" -d 'List the descendants of a process: children, grandchildren, and so on'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "kill" -d 'Send a signal to processes'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "fds" -d 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "ports" -d 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "spawn" -d 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "wait" -d 'Wait for a process to end: any process, not only a child of this command'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "terminate-tree" -d 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "kill-descendants" -d 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "run" -d 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "completions" -d 'Print a completion script for SHELL on stdout'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "manpages" -d 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "timeout" -d 'Run a command with a time limit: GNU timeout\'s options and exit statuses, and the whole tree dies on a timeout'
complete -c sysprims -n "__fish_sysprims_using_subcommand help; and not __fish_seen_subcommand_from pstat descendants kill fds ports spawn wait terminate-tree kill-descendants run completions manpages timeout help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
