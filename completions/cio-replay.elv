
use builtin;
use str;

set edit:completion:arg-completer[cio-replay] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'cio-replay'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'cio-replay'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand validate 'Read, parse and validate every record and route it; print one line per problem. Sends nothing'
            cand dry-run 'Map every record to the exact operation it would send, as NDJSON. Sends nothing'
            cand send 'Map and send to the Track API, sequentially or in rate-limited batches'
            cand gdpr 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate'
            cand verify 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference'
            cand sandbox 'Serve a local stand-in for the Customer.io Track API (and the App API''s people reads) on loopback'
            cand completions 'Print shell completions for SHELL'
            cand man 'Print the man page (roff) of the program, or of one COMMAND'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cio-replay;validate'= {
            cand --files-from 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)'
            cand --input-format 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)'
            cand --transform 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs'
            cand --transform-file 'Read the --transform program from FILE'
            cand --preset 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)'
            cand --region 'Customer.io account region (decides the Track API host)'
            cand --endpoint 'Track API base URL, overriding the region''s host (for example a sandbox)'
            cand --mapping 'TOML file renaming or adding trigger event names per action, or switching actions off'
            cand --event-id 'How event ids (de-duplication) are made for track, page and screen operations'
            cand --mode '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request'
            cand --since 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped'
            cand --until 'Only replay events before this time (RFC 3339 or a date); later ones are skipped'
            cand --progress 'Show progress bars on standard error: `auto` only when it is a terminal'
            cand --summary-json 'Write the summary as JSON to FILE'
            cand --print-transform 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file'
            cand --no-convert-timestamps 'Do not convert ISO-8601 strings in attributes to Unix seconds'
            cand --strict 'Treat skipped records as invalid'
            cand -q 'Print nothing but errors (no progress, no summary on standard error)'
            cand --quiet 'Print nothing but errors (no progress, no summary on standard error)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;dry-run'= {
            cand --files-from 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)'
            cand --input-format 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)'
            cand --transform 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs'
            cand --transform-file 'Read the --transform program from FILE'
            cand --preset 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)'
            cand --region 'Customer.io account region (decides the Track API host)'
            cand --endpoint 'Track API base URL, overriding the region''s host (for example a sandbox)'
            cand --mapping 'TOML file renaming or adding trigger event names per action, or switching actions off'
            cand --event-id 'How event ids (de-duplication) are made for track, page and screen operations'
            cand --mode '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request'
            cand --since 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped'
            cand --until 'Only replay events before this time (RFC 3339 or a date); later ones are skipped'
            cand --progress 'Show progress bars on standard error: `auto` only when it is a terminal'
            cand -o 'Write the NDJSON listing to FILE instead of standard output'
            cand --output 'Write the NDJSON listing to FILE instead of standard output'
            cand --summary-json 'Write the summary as JSON to FILE'
            cand --rate 'Requests per second assumed when estimating how long the send would take'
            cand --batch-size 'Operations per batch request assumed for the estimate (as `send --batch-size`)'
            cand --batch-bytes 'Bytes per batch request assumed for the estimate (as `send --batch-bytes`)'
            cand --concurrency 'Lanes assumed for the estimate (as `send --concurrency`): each packs its own batches'
            cand --print-transform 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file'
            cand --no-convert-timestamps 'Do not convert ISO-8601 strings in attributes to Unix seconds'
            cand --strict 'Treat skipped records as invalid'
            cand -q 'Print nothing but errors (no progress, no summary on standard error)'
            cand --quiet 'Print nothing but errors (no progress, no summary on standard error)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;send'= {
            cand --files-from 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)'
            cand --input-format 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)'
            cand --transform 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs'
            cand --transform-file 'Read the --transform program from FILE'
            cand --preset 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)'
            cand --region 'Customer.io account region (decides the Track API host)'
            cand --endpoint 'Track API base URL, overriding the region''s host (for example a sandbox)'
            cand --mapping 'TOML file renaming or adding trigger event names per action, or switching actions off'
            cand --event-id 'How event ids (de-duplication) are made for track, page and screen operations'
            cand --mode '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request'
            cand --since 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped'
            cand --until 'Only replay events before this time (RFC 3339 or a date); later ones are skipped'
            cand --site-id 'Track API site id (Basic-auth user name)'
            cand --api-key-file 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used'
            cand --api-key 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)'
            cand --rate 'Requests per second, at most (a token bucket); --rate 0 = unlimited'
            cand --concurrency 'Requests in flight at once (batch mode); one person''s records keep their order'
            cand --batch-bytes 'Largest batch request body in bytes (never above 500000)'
            cand --batch-size 'Most operations in one batch request'
            cand --linger 'Milliseconds a lane waits for more operations before it sends a batch that is not full'
            cand --retries 'Retries of a request after a 408, 429, 5xx or network error (0 means none)'
            cand --timeout 'Seconds before one request attempt times out'
            cand --checkpoint 'Keep a checkpoint in FILE so that an interrupted run can be resumed'
            cand --report 'Write the final summary as JSON to FILE'
            cand --ca-bundle 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store, e.g. the CA of a network that inspects TLS'
            cand --progress 'Show progress bars on standard error: `auto` only when it is a terminal'
            cand --dead-letter 'Where invalid and rejected records go (default `<first input>.rejected.ndjson`)'
            cand --limit 'A canary: send only the first N records (of those not settled yet), then stop with the summary; with --checkpoint, a later --resume without --limit sends the rest'
            cand --max-invalid 'An error budget, a count or a percentage of the records (`10`, `0.5%`): the pre-scan refuses to send (exit 2) when more records than that are invalid, and during the send, invalid plus rejected records over it stop the run as Ctrl-C does (exit 5, resumable)'
            cand --print-transform 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file'
            cand --no-convert-timestamps 'Do not convert ISO-8601 strings in attributes to Unix seconds'
            cand --strict 'Treat skipped records as invalid'
            cand --resume 'Continue an interrupted run from its checkpoint'
            cand --sandbox 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)'
            cand -q 'Print nothing but errors (no progress, no summary on standard error)'
            cand --quiet 'Print nothing but errors (no progress, no summary on standard error)'
            cand --allow-recent 'Send even when events fall within the last 72 hours (they can trigger campaigns) or have no timestamp at all'
            cand --dead-letter-append 'Without --checkpoint, add to a dead-letter file that already holds records (refused otherwise, so that one file holds one run''s rejects)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;gdpr'= {
            cand --list-format 'Format of the list, overriding the extension (`.txt`, `.csv`, `.ndjson`)'
            cand --column 'CSV column holding the person (default: the first of userId, id, email, cio_id)'
            cand --receipt 'Where the receipt goes (default `gdpr-<action>-<UTC timestamp>.csv`)'
            cand --region 'Customer.io account region'
            cand --endpoint 'Track API base URL, overriding the region''s host'
            cand --mode '`batch` packs operations into /api/v2/batch; `sequential` sends one per request'
            cand --site-id 'Track API site id (Basic-auth user name)'
            cand --api-key-file 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used'
            cand --api-key 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)'
            cand --rate 'Requests per second, at most (a token bucket); --rate 0 = unlimited'
            cand --concurrency 'Requests in flight at once (batch mode); one person''s records keep their order'
            cand --batch-bytes 'Largest batch request body in bytes (never above 500000)'
            cand --batch-size 'Most operations in one batch request'
            cand --linger 'Milliseconds a lane waits for more operations before it sends a batch that is not full'
            cand --retries 'Retries of a request after a 408, 429, 5xx or network error (0 means none)'
            cand --timeout 'Seconds before one request attempt times out'
            cand --checkpoint 'Keep a checkpoint in FILE so that an interrupted run can be resumed'
            cand --report 'Write the final summary as JSON to FILE'
            cand --ca-bundle 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store, e.g. the CA of a network that inspects TLS'
            cand --progress 'Show progress bars on standard error: `auto` only when it is a terminal'
            cand --dry-run 'List every person and the operation that would be sent, then stop'
            cand --yes 'Go on without the interactive confirmation (needed when not on a terminal)'
            cand --resume 'Continue an interrupted run from its checkpoint'
            cand --sandbox 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)'
            cand -q 'Print nothing but errors (no progress, no summary on standard error)'
            cand --quiet 'Print nothing but errors (no progress, no summary on standard error)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;verify'= {
            cand --files-from 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)'
            cand --input-format 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)'
            cand --transform 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs'
            cand --transform-file 'Read the --transform program from FILE'
            cand --preset 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)'
            cand --region 'Customer.io account region (decides the Track API host)'
            cand --endpoint 'Track API base URL, overriding the region''s host (for example a sandbox)'
            cand --mapping 'TOML file renaming or adding trigger event names per action, or switching actions off'
            cand --event-id 'How event ids (de-duplication) are made for track, page and screen operations'
            cand --mode '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request'
            cand --since 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped'
            cand --until 'Only replay events before this time (RFC 3339 or a date); later ones are skipped'
            cand --progress 'Show progress bars on standard error: `auto` only when it is a terminal'
            cand --app-endpoint 'App API base URL, overriding the region''s host (https://api.customer.io or https://api-eu.customer.io); plain http only to a loopback host, such as a sandbox'
            cand --app-api-key-file 'Read the App API key from FILE (first line). Otherwise env CIO_APP_API_KEY is used. Not the Track API key'
            cand --sample 'Check a deterministic sample of N people (chosen by --seed) instead of everyone, holding only their expected state in memory'
            cand --seed 'Seed of the --sample choice: the same seed and input give the same people'
            cand --report 'Write the counts and the first differences as JSON to FILE'
            cand --retries 'Retries of an App API request after a 429, 5xx or network error (0 means none)'
            cand --timeout 'Seconds before one App API request attempt times out'
            cand --ca-bundle 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store'
            cand --print-transform 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file'
            cand --no-convert-timestamps 'Do not convert ISO-8601 strings in attributes to Unix seconds'
            cand --strict 'Treat skipped records as invalid'
            cand -q 'Print nothing but errors (no progress, no summary on standard error)'
            cand --quiet 'Print nothing but errors (no progress, no summary on standard error)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;sandbox'= {
            cand --port 'Port on 127.0.0.1 (0 chooses a free one)'
            cand --site-id 'Site id the sandbox accepts (Basic-auth user name); default env CIO_SITE_ID or `sandbox`'
            cand --api-key 'API key the sandbox accepts; default env CIO_API_KEY or `sandbox-key`'
            cand --app-api-key 'App API key the sandbox accepts as `Authorization: Bearer`; default env CIO_APP_API_KEY or `sandbox-app-key`. It must differ from the Track API key'
            cand --workspace-region 'Region `GET /api/v1/accounts/region` reports (its `url` is always the sandbox''s own)'
            cand --latency-ms 'Delay every reply by N milliseconds'
            cand --fail-rate 'Fraction (0 to 1) of requests answered with an injected 500, 502 or 503'
            cand --throttle 'Answer 429 with Retry-After above RPS requests per second'
            cand --seed 'Seed for the fault injection, for repeatable runs'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;man'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'cio-replay;help'= {
            cand validate 'Read, parse and validate every record and route it; print one line per problem. Sends nothing'
            cand dry-run 'Map every record to the exact operation it would send, as NDJSON. Sends nothing'
            cand send 'Map and send to the Track API, sequentially or in rate-limited batches'
            cand gdpr 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate'
            cand verify 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference'
            cand sandbox 'Serve a local stand-in for the Customer.io Track API (and the App API''s people reads) on loopback'
            cand completions 'Print shell completions for SHELL'
            cand man 'Print the man page (roff) of the program, or of one COMMAND'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'cio-replay;help;validate'= {
        }
        &'cio-replay;help;dry-run'= {
        }
        &'cio-replay;help;send'= {
        }
        &'cio-replay;help;gdpr'= {
        }
        &'cio-replay;help;verify'= {
        }
        &'cio-replay;help;sandbox'= {
        }
        &'cio-replay;help;completions'= {
        }
        &'cio-replay;help;man'= {
        }
        &'cio-replay;help;help'= {
        }
    ]
    $completions[$command]
}
