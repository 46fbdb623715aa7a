# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_cio_replay_global_optspecs
    string join \n h/help V/version
end

function __fish_cio_replay_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_cio_replay_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_cio_replay_using_subcommand
    set -l cmd (__fish_cio_replay_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c cio-replay -n "__fish_cio_replay_needs_command" -s h -l help -d 'Print help'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "validate" -d 'Read, parse and validate every record and route it; print one line per problem. Sends nothing'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "dry-run" -d 'Map every record to the exact operation it would send, as NDJSON. Sends nothing'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "send" -d 'Map and send to the Track API, sequentially or in rate-limited batches'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "gdpr" -d 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "verify" -d 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "sandbox" -d 'Serve a local stand-in for the Customer.io Track API (and the App API\'s people reads) on loopback'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "completions" -d 'Print shell completions for SHELL'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "man" -d 'Print the man page (roff) of the program, or of one COMMAND'
complete -c cio-replay -n "__fish_cio_replay_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l files-from -d 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l input-format -d 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)' -r -f -a "ndjson\t'One JSON object per line'
json\t'One JSON array of objects, or NDJSON (told by the first byte that is not whitespace)'
csv\t'A header of dotted paths, one event per row'
parquet\t'Parquet (a file, not stdin): each row an object of its columns'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l transform -d 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l transform-file -d 'Read the --transform program from FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l preset -d 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)' -r -f -a "mixpanel\t''
amplitude\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l region -d 'Customer.io account region (decides the Track API host)' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l endpoint -d 'Track API base URL, overriding the region\'s host (for example a sandbox)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l mapping -d 'TOML file renaming or adding trigger event names per action, or switching actions off' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l event-id -d 'How event ids (de-duplication) are made for track, page and screen operations' -r -f -a "ulid\t'A ULID: the messageId when it is one, else derived deterministically from the record'
message-id\t'The messageId as it is (what Segment\'s destination sends)'
none\t'No event id'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l mode -d '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request' -r -f -a "batch\t''
sequential\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l since -d 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l until -d 'Only replay events before this time (RFC 3339 or a date); later ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l progress -d 'Show progress bars on standard error: `auto` only when it is a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l summary-json -d 'Write the summary as JSON to FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l print-transform -d 'Print the --preset\'s jq program and exit, to copy and adapt for --transform-file'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l no-convert-timestamps -d 'Do not convert ISO-8601 strings in attributes to Unix seconds'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -l strict -d 'Treat skipped records as invalid'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -s q -l quiet -d 'Print nothing but errors (no progress, no summary on standard error)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand validate" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l files-from -d 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l input-format -d 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)' -r -f -a "ndjson\t'One JSON object per line'
json\t'One JSON array of objects, or NDJSON (told by the first byte that is not whitespace)'
csv\t'A header of dotted paths, one event per row'
parquet\t'Parquet (a file, not stdin): each row an object of its columns'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l transform -d 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l transform-file -d 'Read the --transform program from FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l preset -d 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)' -r -f -a "mixpanel\t''
amplitude\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l region -d 'Customer.io account region (decides the Track API host)' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l endpoint -d 'Track API base URL, overriding the region\'s host (for example a sandbox)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l mapping -d 'TOML file renaming or adding trigger event names per action, or switching actions off' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l event-id -d 'How event ids (de-duplication) are made for track, page and screen operations' -r -f -a "ulid\t'A ULID: the messageId when it is one, else derived deterministically from the record'
message-id\t'The messageId as it is (what Segment\'s destination sends)'
none\t'No event id'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l mode -d '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request' -r -f -a "batch\t''
sequential\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l since -d 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l until -d 'Only replay events before this time (RFC 3339 or a date); later ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l progress -d 'Show progress bars on standard error: `auto` only when it is a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -s o -l output -d 'Write the NDJSON listing to FILE instead of standard output' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l summary-json -d 'Write the summary as JSON to FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l rate -d 'Requests per second assumed when estimating how long the send would take' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l batch-size -d 'Operations per batch request assumed for the estimate (as `send --batch-size`)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l batch-bytes -d 'Bytes per batch request assumed for the estimate (as `send --batch-bytes`)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l concurrency -d 'Lanes assumed for the estimate (as `send --concurrency`): each packs its own batches' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l print-transform -d 'Print the --preset\'s jq program and exit, to copy and adapt for --transform-file'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l no-convert-timestamps -d 'Do not convert ISO-8601 strings in attributes to Unix seconds'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -l strict -d 'Treat skipped records as invalid'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -s q -l quiet -d 'Print nothing but errors (no progress, no summary on standard error)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand dry-run" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l files-from -d 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l input-format -d 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)' -r -f -a "ndjson\t'One JSON object per line'
json\t'One JSON array of objects, or NDJSON (told by the first byte that is not whitespace)'
csv\t'A header of dotted paths, one event per row'
parquet\t'Parquet (a file, not stdin): each row an object of its columns'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l transform -d 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l transform-file -d 'Read the --transform program from FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l preset -d 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)' -r -f -a "mixpanel\t''
amplitude\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l region -d 'Customer.io account region (decides the Track API host)' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l endpoint -d 'Track API base URL, overriding the region\'s host (for example a sandbox)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l mapping -d 'TOML file renaming or adding trigger event names per action, or switching actions off' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l event-id -d 'How event ids (de-duplication) are made for track, page and screen operations' -r -f -a "ulid\t'A ULID: the messageId when it is one, else derived deterministically from the record'
message-id\t'The messageId as it is (what Segment\'s destination sends)'
none\t'No event id'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l mode -d '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request' -r -f -a "batch\t''
sequential\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l since -d 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l until -d 'Only replay events before this time (RFC 3339 or a date); later ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l site-id -d 'Track API site id (Basic-auth user name)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l api-key-file -d 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l api-key -d 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l rate -d 'Requests per second, at most (a token bucket); --rate 0 = unlimited' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l concurrency -d 'Requests in flight at once (batch mode); one person\'s records keep their order' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l batch-bytes -d 'Largest batch request body in bytes (never above 500000)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l batch-size -d 'Most operations in one batch request' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l linger -d 'Milliseconds a lane waits for more operations before it sends a batch that is not full' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l retries -d 'Retries of a request after a 408, 429, 5xx or network error (0 means none)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l timeout -d 'Seconds before one request attempt times out' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l checkpoint -d 'Keep a checkpoint in FILE so that an interrupted run can be resumed' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l report -d 'Write the final summary as JSON to FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l ca-bundle -d 'Trust only the certificate authorities in FILE (PEM) instead of the operating system\'s store, e.g. the CA of a network that inspects TLS' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l progress -d 'Show progress bars on standard error: `auto` only when it is a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l dead-letter -d 'Where invalid and rejected records go (default `<first input>.rejected.ndjson`)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l limit -d 'A canary: send only the first N records (of those not settled yet), then stop with the summary; with --checkpoint, a later --resume without --limit sends the rest' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l max-invalid -d 'An error budget, a count or a percentage of the records (`10`, `0.5%`): the pre-scan refuses to send (exit 2) when more records than that are invalid, and during the send, invalid plus rejected records over it stop the run as Ctrl-C does (exit 5, resumable)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l print-transform -d 'Print the --preset\'s jq program and exit, to copy and adapt for --transform-file'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l no-convert-timestamps -d 'Do not convert ISO-8601 strings in attributes to Unix seconds'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l strict -d 'Treat skipped records as invalid'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l resume -d 'Continue an interrupted run from its checkpoint'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l sandbox -d 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -s q -l quiet -d 'Print nothing but errors (no progress, no summary on standard error)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l allow-recent -d 'Send even when events fall within the last 72 hours (they can trigger campaigns) or have no timestamp at all'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -l dead-letter-append -d 'Without --checkpoint, add to a dead-letter file that already holds records (refused otherwise, so that one file holds one run\'s rejects)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand send" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l list-format -d 'Format of the list, overriding the extension (`.txt`, `.csv`, `.ndjson`)' -r -f -a "text\t''
csv\t''
ndjson\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l column -d 'CSV column holding the person (default: the first of userId, id, email, cio_id)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l receipt -d 'Where the receipt goes (default `gdpr-<action>-<UTC timestamp>.csv`)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l region -d 'Customer.io account region' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l endpoint -d 'Track API base URL, overriding the region\'s host' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l mode -d '`batch` packs operations into /api/v2/batch; `sequential` sends one per request' -r -f -a "batch\t''
sequential\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l site-id -d 'Track API site id (Basic-auth user name)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l api-key-file -d 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l api-key -d 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l rate -d 'Requests per second, at most (a token bucket); --rate 0 = unlimited' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l concurrency -d 'Requests in flight at once (batch mode); one person\'s records keep their order' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l batch-bytes -d 'Largest batch request body in bytes (never above 500000)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l batch-size -d 'Most operations in one batch request' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l linger -d 'Milliseconds a lane waits for more operations before it sends a batch that is not full' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l retries -d 'Retries of a request after a 408, 429, 5xx or network error (0 means none)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l timeout -d 'Seconds before one request attempt times out' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l checkpoint -d 'Keep a checkpoint in FILE so that an interrupted run can be resumed' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l report -d 'Write the final summary as JSON to FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l ca-bundle -d 'Trust only the certificate authorities in FILE (PEM) instead of the operating system\'s store, e.g. the CA of a network that inspects TLS' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l progress -d 'Show progress bars on standard error: `auto` only when it is a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l dry-run -d 'List every person and the operation that would be sent, then stop'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l yes -d 'Go on without the interactive confirmation (needed when not on a terminal)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l resume -d 'Continue an interrupted run from its checkpoint'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -l sandbox -d 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -s q -l quiet -d 'Print nothing but errors (no progress, no summary on standard error)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -s h -l help -d 'Print help'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand gdpr" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l files-from -d 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l input-format -d 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)' -r -f -a "ndjson\t'One JSON object per line'
json\t'One JSON array of objects, or NDJSON (told by the first byte that is not whitespace)'
csv\t'A header of dotted paths, one event per row'
parquet\t'Parquet (a file, not stdin): each row an object of its columns'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l transform -d 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l transform-file -d 'Read the --transform program from FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l preset -d 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)' -r -f -a "mixpanel\t''
amplitude\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l region -d 'Customer.io account region (decides the Track API host)' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l endpoint -d 'Track API base URL, overriding the region\'s host (for example a sandbox)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l mapping -d 'TOML file renaming or adding trigger event names per action, or switching actions off' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l event-id -d 'How event ids (de-duplication) are made for track, page and screen operations' -r -f -a "ulid\t'A ULID: the messageId when it is one, else derived deterministically from the record'
message-id\t'The messageId as it is (what Segment\'s destination sends)'
none\t'No event id'"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l mode -d '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request' -r -f -a "batch\t''
sequential\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l since -d 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l until -d 'Only replay events before this time (RFC 3339 or a date); later ones are skipped' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l progress -d 'Show progress bars on standard error: `auto` only when it is a terminal' -r -f -a "auto\t''
always\t''
never\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l app-endpoint -d 'App API base URL, overriding the region\'s host (https://api.customer.io or https://api-eu.customer.io); plain http only to a loopback host, such as a sandbox' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l app-api-key-file -d 'Read the App API key from FILE (first line). Otherwise env CIO_APP_API_KEY is used. Not the Track API key' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l sample -d 'Check a deterministic sample of N people (chosen by --seed) instead of everyone, holding only their expected state in memory' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l seed -d 'Seed of the --sample choice: the same seed and input give the same people' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l report -d 'Write the counts and the first differences as JSON to FILE' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l retries -d 'Retries of an App API request after a 429, 5xx or network error (0 means none)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l timeout -d 'Seconds before one App API request attempt times out' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l ca-bundle -d 'Trust only the certificate authorities in FILE (PEM) instead of the operating system\'s store' -r -F
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l print-transform -d 'Print the --preset\'s jq program and exit, to copy and adapt for --transform-file'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l no-convert-timestamps -d 'Do not convert ISO-8601 strings in attributes to Unix seconds'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -l strict -d 'Treat skipped records as invalid'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -s q -l quiet -d 'Print nothing but errors (no progress, no summary on standard error)'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand verify" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l port -d 'Port on 127.0.0.1 (0 chooses a free one)' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l site-id -d 'Site id the sandbox accepts (Basic-auth user name); default env CIO_SITE_ID or `sandbox`' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l api-key -d 'API key the sandbox accepts; default env CIO_API_KEY or `sandbox-key`' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l app-api-key -d 'App API key the sandbox accepts as `Authorization: Bearer`; default env CIO_APP_API_KEY or `sandbox-app-key`. It must differ from the Track API key' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l workspace-region -d 'Region `GET /api/v1/accounts/region` reports (its `url` is always the sandbox\'s own)' -r -f -a "us\t''
eu\t''"
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l latency-ms -d 'Delay every reply by N milliseconds' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l fail-rate -d 'Fraction (0 to 1) of requests answered with an injected 500, 502 or 503' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l throttle -d 'Answer 429 with Retry-After above RPS requests per second' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -l seed -d 'Seed for the fault injection, for repeatable runs' -r
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -s h -l help -d 'Print help'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand sandbox" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand completions" -s h -l help -d 'Print help'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand completions" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand man" -s h -l help -d 'Print help'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand man" -s V -l version -d 'Print version'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "validate" -d 'Read, parse and validate every record and route it; print one line per problem. Sends nothing'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "dry-run" -d 'Map every record to the exact operation it would send, as NDJSON. Sends nothing'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "send" -d 'Map and send to the Track API, sequentially or in rate-limited batches'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "gdpr" -d 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "verify" -d 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "sandbox" -d 'Serve a local stand-in for the Customer.io Track API (and the App API\'s people reads) on loopback'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "completions" -d 'Print shell completions for SHELL'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "man" -d 'Print the man page (roff) of the program, or of one COMMAND'
complete -c cio-replay -n "__fish_cio_replay_using_subcommand help; and not __fish_seen_subcommand_from validate dry-run send gdpr verify sandbox completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
