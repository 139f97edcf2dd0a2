
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'sysprims' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'sysprims'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'sysprims' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('pstat', 'pstat', [CompletionResultType]::ParameterValue, 'List processes, with filters, sorting and CPU sampling')
            [CompletionResult]::new('descendants', 'descendants', [CompletionResultType]::ParameterValue, 'List the descendants of a process: children, grandchildren, and so on')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Send a signal to processes')
            [CompletionResult]::new('fds', 'fds', [CompletionResultType]::ParameterValue, 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`')
            [CompletionResult]::new('spawn', 'spawn', [CompletionResultType]::ParameterValue, 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait for a process to end: any process, not only a child of this command')
            [CompletionResult]::new('terminate-tree', 'terminate-tree', [CompletionResultType]::ParameterValue, 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left')
            [CompletionResult]::new('kill-descendants', 'kill-descendants', [CompletionResultType]::ParameterValue, 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a completion script for SHELL on stdout')
            [CompletionResult]::new('manpages', 'manpages', [CompletionResultType]::ParameterValue, 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command')
            [CompletionResult]::new('timeout', 'timeout', [CompletionResultType]::ParameterValue, 'Run a command with a time limit: GNU timeout''s options and exit statuses, and the whole tree dies on a timeout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sysprims;pstat' {
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only these PIDs (repeat the option or separate with commas)')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Effective user, by name or UID')
            [CompletionResult]::new('--ppid', '--ppid', [CompletionResultType]::ParameterName, 'Parent PID')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)')
            [CompletionResult]::new('--cpu-above', '--cpu-above', [CompletionResultType]::ParameterName, 'CPU use above PERCENT (of one CPU)')
            [CompletionResult]::new('--memory-above', '--memory-above', [CompletionResultType]::ParameterName, 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)')
            [CompletionResult]::new('--running-for', '--running-for', [CompletionResultType]::ParameterName, 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages')
            [CompletionResult]::new('--sort', '--sort', [CompletionResultType]::ParameterName, 'Sort by pid, name, cpu, memory or start_time (cpu and memory busiest first; start_time oldest first)')
            [CompletionResult]::new('--top', '--top', [CompletionResultType]::ParameterName, 'Show only the first N after sorting')
            [CompletionResult]::new('--exact', '--exact', [CompletionResultType]::ParameterName, 'With --name: the name must be exactly TEXT')
            [CompletionResult]::new('--reverse', '--reverse', [CompletionResultType]::ParameterName, 'Reverse the sort order')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Include each process''s environment (JSON only; often holds secrets)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/process-snapshot.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;descendants' {
            [CompletionResult]::new('--max-levels', '--max-levels', [CompletionResultType]::ParameterName, 'How many levels below PID: a number (1 = children) or "all"')
            [CompletionResult]::new('--tree', '--tree', [CompletionResultType]::ParameterName, 'Draw the tree in the COMMAND column')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/process-tree.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;kill' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The signal to send, by name or number (this platform''s number, as `kill -l` lists)')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal to send, by name or number (this platform''s number, as `kill -l` lists)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'List signal names; with SIGNAL, convert a name to its number or a number (or an exit status above 128) to its name')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List signal names; with SIGNAL, convert a name to its number or a number (or an exit status above 128) to its name')
            [CompletionResult]::new('--require-start-time-ms', '--require-start-time-ms', [CompletionResultType]::ParameterName, 'Signal only if the process started at this time (Unix milliseconds, as `pstat --json` reports start_time_unix_ms)')
            [CompletionResult]::new('--require-exe-path', '--require-exe-path', [CompletionResultType]::ParameterName, 'Signal only if the process runs this executable')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Effective user, by name or UID')
            [CompletionResult]::new('--ppid', '--ppid', [CompletionResultType]::ParameterName, 'Parent PID')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)')
            [CompletionResult]::new('--cpu-above', '--cpu-above', [CompletionResultType]::ParameterName, 'CPU use above PERCENT (of one CPU)')
            [CompletionResult]::new('--memory-above', '--memory-above', [CompletionResultType]::ParameterName, 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)')
            [CompletionResult]::new('--running-for', '--running-for', [CompletionResultType]::ParameterName, 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'List signal numbers and names as a table')
            [CompletionResult]::new('--table', '--table', [CompletionResultType]::ParameterName, 'List signal numbers and names as a table')
            [CompletionResult]::new('--exact', '--exact', [CompletionResultType]::ParameterName, 'With --name: the name must be exactly TEXT')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Send to the processes a filter selected (without it, they are only listed)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only show what would be signalled')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow signalling PID 1, sysprims itself and its own process group')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;fds' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Only fds of these kinds: file, directory (dir), socket, pipe, anon_inode (anon), char_device (char), block_device (block), unknown. Repeat or separate with commas')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/fd-snapshot.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sysprims;ports' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Only this local port (1-65535)')
            [CompletionResult]::new('--pid', '--pid', [CompletionResultType]::ParameterName, 'Only sockets this process holds')
            [CompletionResult]::new('--tcp', '--tcp', [CompletionResultType]::ParameterName, 'TCP sockets (with --udp: both; neither: both)')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'UDP sockets')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/port-bindings.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;spawn' {
            [CompletionResult]::new('--cwd', '--cwd', [CompletionResultType]::ParameterName, 'The job''s working directory (default: this command''s)')
            [CompletionResult]::new('--env', '--env', [CompletionResultType]::ParameterName, 'Set an environment variable for the job (repeatable; the last of a key wins)')
            [CompletionResult]::new('--containment', '--containment', [CompletionResultType]::ParameterName, 'What holds the job: a cgroup if one can be made, else a process group (auto); a cgroup or fail (cgroup); a process group only (process_group)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read standard input from FILE (default: /dev/null)')
            [CompletionResult]::new('--stdout', '--stdout', [CompletionResultType]::ParameterName, 'Write standard output to FILE, created if missing, truncated unless --append (default: /dev/null)')
            [CompletionResult]::new('--stderr', '--stderr', [CompletionResultType]::ParameterName, 'Write standard error to FILE, created if missing, truncated unless --append (default: /dev/null). The same FILE as --stdout shares it, as `>FILE 2>&1` does')
            [CompletionResult]::new('--env-clear', '--env-clear', [CompletionResultType]::ParameterName, 'Start from an empty environment (then add the --env variables) instead of this command''s')
            [CompletionResult]::new('--append', '--append', [CompletionResultType]::ParameterName, 'Append to the --stdout and --stderr files instead of truncating them')
            [CompletionResult]::new('--inherit-stdio', '--inherit-stdio', [CompletionResultType]::ParameterName, 'Pass this command''s own stdin, stdout and stderr to the job where no FILE is given, instead of /dev/null (see "Standard streams" below)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/spawn-in-group-result.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;wait' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after DURATION (e.g. 500ms, 30s, 5m); 0 checks without waiting. Default: no limit')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/wait-pid-result.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;terminate-tree' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The graceful signal, by name or number')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The graceful signal, by name or number')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long to wait for the tree to end after the signal before escalating')
            [CompletionResult]::new('--kill-signal', '--kill-signal', [CompletionResultType]::ParameterName, 'The signal to escalate with')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'How long to wait after the kill signal before giving up and reporting survivors')
            [CompletionResult]::new('--require-start-time-ms', '--require-start-time-ms', [CompletionResultType]::ParameterName, 'Act only if PID started at this time (Unix milliseconds, as `sysprims spawn` and `pstat --json` report start_time_unix_ms)')
            [CompletionResult]::new('--require-exe-path', '--require-exe-path', [CompletionResultType]::ParameterName, 'Act only if PID runs this executable')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow PID 1 and sysprims itself as the root')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/terminate-tree-result.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;kill-descendants' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The signal to send, by name or number')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal to send, by name or number')
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name contains TEXT, case-sensitively. The name is the kernel''s (comm, at most 15 bytes); when it is exactly 15 bytes, cut short, the base name of argv[0] and of the executable are matched too if they begin with it')
            [CompletionResult]::new('--user', '--user', [CompletionResultType]::ParameterName, 'Effective user, by name or UID')
            [CompletionResult]::new('--ppid', '--ppid', [CompletionResultType]::ParameterName, 'Parent PID')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Scheduling state: running, sleeping, disk_sleep, stopped, tracing_stop, zombie, dead, idle, parked (or the ps letter)')
            [CompletionResult]::new('--cpu-above', '--cpu-above', [CompletionResultType]::ParameterName, 'CPU use above PERCENT (of one CPU)')
            [CompletionResult]::new('--memory-above', '--memory-above', [CompletionResultType]::ParameterName, 'Resident memory above SIZE (KiB, or with a unit: 100M, 1.5G)')
            [CompletionResult]::new('--running-for', '--running-for', [CompletionResultType]::ParameterName, 'Running for at least DURATION (e.g. 90s, 10m, 2h, 1d)')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Measure CPU over DURATION (e.g. 500ms, 2s) instead of lifetime averages')
            [CompletionResult]::new('--exact', '--exact', [CompletionResultType]::ParameterName, 'With --name: the name must be exactly TEXT')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Send the signal (without it, the descendants are only listed)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Only show what would be signalled (the default without --yes)')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Allow PID 1 as the root (every process on the machine descends from it), and sysprims itself among the targets')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print a JSON document (schema: schemas/kill-report.v1.schema.json)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'sysprims;run' {
            [CompletionResult]::new('--memory-max', '--memory-max', [CompletionResultType]::ParameterName, 'The most memory the whole job may use (cgroup memory.max); past it the kernel''s OOM killer ends a process of the job')
            [CompletionResult]::new('--memory-swap-max', '--memory-swap-max', [CompletionResultType]::ParameterName, 'The most swap the whole job may use (memory.swap.max); 0 is none')
            [CompletionResult]::new('--pids-max', '--pids-max', [CompletionResultType]::ParameterName, 'The most processes and threads the job may have at once (pids.max): a fork past it fails')
            [CompletionResult]::new('--cpu-max', '--cpu-max', [CompletionResultType]::ParameterName, 'The CPU the whole job may use, in CPUs: 0.5 is half of one, 2 is two (cpu.max)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'End the job if it is still running after DURATION (--signal, then SIGKILL after --kill-after); exit 124. Default: no deadline')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The signal that ends the job at the deadline, and what the command left running after it exited (default TERM)')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal that ends the job at the deadline, and what the command left running after it exited (default TERM)')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'SIGKILL the job if it is still running this long after --signal. Default: at once for leftovers, never for a command past its --timeout (as GNU timeout without -k)')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'SIGKILL the job if it is still running this long after --signal. Default: at once for leftovers, never for a command past its --timeout (as GNU timeout without -k)')
            [CompletionResult]::new('--containment', '--containment', [CompletionResultType]::ParameterName, 'What holds the job: a cgroup if one can be made, else a process group with no usage and no limits, each said in a warning (auto); a cgroup or fail with exit 125 (cgroup)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write the report as a JSON document to FILE instead of the text report on stderr (schema: schemas/run-report.v1.schema.json)')
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Leave this command''s process group as it is (the command joins it, and can read the terminal from a script), instead of making one of its own as GNU timeout does')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say on stderr each signal sent to the job')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say on stderr each signal sent to the job')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;manpages' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'sysprims;timeout' {
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Also send KILL if COMMAND is still running this long after the signal')
            [CompletionResult]::new('--kill-after', '--kill-after', [CompletionResultType]::ParameterName, 'Also send KILL if COMMAND is still running this long after the signal')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'The signal sent on timeout (default TERM): a name like HUP, or a number')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'The signal sent on timeout (default TERM): a name like HUP, or a number')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Write a JSON report of the run to FILE (schema: timeout-report v1)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--preserve-status', '--preserve-status', [CompletionResultType]::ParameterName, 'Exit with the same status as COMMAND, even when the command times out')
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Leave COMMAND in this process group: it can read the TTY and gets TTY signals')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Diagnose to stderr any signal sent upon timeout')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Diagnose to stderr any signal sent upon timeout')
            [CompletionResult]::new('--cleanup', '--cleanup', [CompletionResultType]::ParameterName, 'When COMMAND exits before DURATION, also end what it left running')
            break
        }
        'sysprims;help' {
            [CompletionResult]::new('pstat', 'pstat', [CompletionResultType]::ParameterValue, 'List processes, with filters, sorting and CPU sampling')
            [CompletionResult]::new('descendants', 'descendants', [CompletionResultType]::ParameterValue, 'List the descendants of a process: children, grandchildren, and so on')
            [CompletionResult]::new('kill', 'kill', [CompletionResultType]::ParameterValue, 'Send a signal to processes')
            [CompletionResult]::new('fds', 'fds', [CompletionResultType]::ParameterValue, 'List the open file descriptors of a process: files, directories, sockets, pipes, devices and anonymous inodes (eventfd, epoll, pidfd, ...), with offsets and open flags')
            [CompletionResult]::new('ports', 'ports', [CompletionResultType]::ParameterValue, 'List listening sockets (TCP in state LISTEN, bound UDP sockets) with every process that holds each one, like `ss -ltunp`')
            [CompletionResult]::new('spawn', 'spawn', [CompletionResultType]::ParameterValue, 'Start a job in a process group (and, on Linux where cgroup v2 is writable, a cgroup) of its own, print what holds it, and return at once')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait for a process to end: any process, not only a child of this command')
            [CompletionResult]::new('terminate-tree', 'terminate-tree', [CompletionResultType]::ParameterValue, 'End a process and all its descendants: a signal (SIGTERM), a grace period, then a kill signal (SIGKILL) for whatever is left')
            [CompletionResult]::new('kill-descendants', 'kill-descendants', [CompletionResultType]::ParameterValue, 'Signal the descendants of a process (its children, their children, ...), optionally only those that match filter options; the process itself is never signalled')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a command in the foreground as a job, with limits on its whole tree, and report what it used: exit status, OOM kills, peak memory, CPU time, peak processes, wall time')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a completion script for SHELL on stdout')
            [CompletionResult]::new('manpages', 'manpages', [CompletionResultType]::ParameterValue, 'Write the man pages into DIR: sysprims.1 and one sysprims-COMMAND.1 per command')
            [CompletionResult]::new('timeout', 'timeout', [CompletionResultType]::ParameterValue, 'Run a command with a time limit: GNU timeout''s options and exit statuses, and the whole tree dies on a timeout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'sysprims;help;pstat' {
            break
        }
        'sysprims;help;descendants' {
            break
        }
        'sysprims;help;kill' {
            break
        }
        'sysprims;help;fds' {
            break
        }
        'sysprims;help;ports' {
            break
        }
        'sysprims;help;spawn' {
            break
        }
        'sysprims;help;wait' {
            break
        }
        'sysprims;help;terminate-tree' {
            break
        }
        'sysprims;help;kill-descendants' {
            break
        }
        'sysprims;help;run' {
            break
        }
        'sysprims;help;completions' {
            break
        }
        'sysprims;help;manpages' {
            break
        }
        'sysprims;help;timeout' {
            break
        }
        'sysprims;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
