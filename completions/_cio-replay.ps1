
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'cio-replay' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'cio-replay'
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
        'cio-replay' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Read, parse and validate every record and route it; print one line per problem. Sends nothing')
            [CompletionResult]::new('dry-run', 'dry-run', [CompletionResultType]::ParameterValue, 'Map every record to the exact operation it would send, as NDJSON. Sends nothing')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Map and send to the Track API, sequentially or in rate-limited batches')
            [CompletionResult]::new('gdpr', 'gdpr', [CompletionResultType]::ParameterValue, 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve a local stand-in for the Customer.io Track API (and the App API''s people reads) on loopback')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of the program, or of one COMMAND')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cio-replay;validate' {
            [CompletionResult]::new('--files-from', '--files-from', [CompletionResultType]::ParameterName, 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)')
            [CompletionResult]::new('--transform', '--transform', [CompletionResultType]::ParameterName, 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs')
            [CompletionResult]::new('--transform-file', '--transform-file', [CompletionResultType]::ParameterName, 'Read the --transform program from FILE')
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Customer.io account region (decides the Track API host)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Track API base URL, overriding the region''s host (for example a sandbox)')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'TOML file renaming or adding trigger event names per action, or switching actions off')
            [CompletionResult]::new('--event-id', '--event-id', [CompletionResultType]::ParameterName, 'How event ids (de-duplication) are made for track, page and screen operations')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only replay events before this time (RFC 3339 or a date); later ones are skipped')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress bars on standard error: `auto` only when it is a terminal')
            [CompletionResult]::new('--summary-json', '--summary-json', [CompletionResultType]::ParameterName, 'Write the summary as JSON to FILE')
            [CompletionResult]::new('--print-transform', '--print-transform', [CompletionResultType]::ParameterName, 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file')
            [CompletionResult]::new('--no-convert-timestamps', '--no-convert-timestamps', [CompletionResultType]::ParameterName, 'Do not convert ISO-8601 strings in attributes to Unix seconds')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat skipped records as invalid')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;dry-run' {
            [CompletionResult]::new('--files-from', '--files-from', [CompletionResultType]::ParameterName, 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)')
            [CompletionResult]::new('--transform', '--transform', [CompletionResultType]::ParameterName, 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs')
            [CompletionResult]::new('--transform-file', '--transform-file', [CompletionResultType]::ParameterName, 'Read the --transform program from FILE')
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Customer.io account region (decides the Track API host)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Track API base URL, overriding the region''s host (for example a sandbox)')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'TOML file renaming or adding trigger event names per action, or switching actions off')
            [CompletionResult]::new('--event-id', '--event-id', [CompletionResultType]::ParameterName, 'How event ids (de-duplication) are made for track, page and screen operations')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only replay events before this time (RFC 3339 or a date); later ones are skipped')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress bars on standard error: `auto` only when it is a terminal')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the NDJSON listing to FILE instead of standard output')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the NDJSON listing to FILE instead of standard output')
            [CompletionResult]::new('--summary-json', '--summary-json', [CompletionResultType]::ParameterName, 'Write the summary as JSON to FILE')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Requests per second assumed when estimating how long the send would take')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Operations per batch request assumed for the estimate (as `send --batch-size`)')
            [CompletionResult]::new('--batch-bytes', '--batch-bytes', [CompletionResultType]::ParameterName, 'Bytes per batch request assumed for the estimate (as `send --batch-bytes`)')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Lanes assumed for the estimate (as `send --concurrency`): each packs its own batches')
            [CompletionResult]::new('--print-transform', '--print-transform', [CompletionResultType]::ParameterName, 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file')
            [CompletionResult]::new('--no-convert-timestamps', '--no-convert-timestamps', [CompletionResultType]::ParameterName, 'Do not convert ISO-8601 strings in attributes to Unix seconds')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat skipped records as invalid')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;send' {
            [CompletionResult]::new('--files-from', '--files-from', [CompletionResultType]::ParameterName, 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)')
            [CompletionResult]::new('--transform', '--transform', [CompletionResultType]::ParameterName, 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs')
            [CompletionResult]::new('--transform-file', '--transform-file', [CompletionResultType]::ParameterName, 'Read the --transform program from FILE')
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Customer.io account region (decides the Track API host)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Track API base URL, overriding the region''s host (for example a sandbox)')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'TOML file renaming or adding trigger event names per action, or switching actions off')
            [CompletionResult]::new('--event-id', '--event-id', [CompletionResultType]::ParameterName, 'How event ids (de-duplication) are made for track, page and screen operations')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only replay events before this time (RFC 3339 or a date); later ones are skipped')
            [CompletionResult]::new('--site-id', '--site-id', [CompletionResultType]::ParameterName, 'Track API site id (Basic-auth user name)')
            [CompletionResult]::new('--api-key-file', '--api-key-file', [CompletionResultType]::ParameterName, 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Requests per second, at most (a token bucket); --rate 0 = unlimited')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once (batch mode); one person''s records keep their order')
            [CompletionResult]::new('--batch-bytes', '--batch-bytes', [CompletionResultType]::ParameterName, 'Largest batch request body in bytes (never above 500000)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most operations in one batch request')
            [CompletionResult]::new('--linger', '--linger', [CompletionResultType]::ParameterName, 'Milliseconds a lane waits for more operations before it sends a batch that is not full')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after a 408, 429, 5xx or network error (0 means none)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before one request attempt times out')
            [CompletionResult]::new('--checkpoint', '--checkpoint', [CompletionResultType]::ParameterName, 'Keep a checkpoint in FILE so that an interrupted run can be resumed')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the final summary as JSON to FILE')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store, e.g. the CA of a network that inspects TLS')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress bars on standard error: `auto` only when it is a terminal')
            [CompletionResult]::new('--dead-letter', '--dead-letter', [CompletionResultType]::ParameterName, 'Where invalid and rejected records go (default `<first input>.rejected.ndjson`)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'A canary: send only the first N records (of those not settled yet), then stop with the summary; with --checkpoint, a later --resume without --limit sends the rest')
            [CompletionResult]::new('--max-invalid', '--max-invalid', [CompletionResultType]::ParameterName, 'An error budget, a count or a percentage of the records (`10`, `0.5%`): the pre-scan refuses to send (exit 2) when more records than that are invalid, and during the send, invalid plus rejected records over it stop the run as Ctrl-C does (exit 5, resumable)')
            [CompletionResult]::new('--print-transform', '--print-transform', [CompletionResultType]::ParameterName, 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file')
            [CompletionResult]::new('--no-convert-timestamps', '--no-convert-timestamps', [CompletionResultType]::ParameterName, 'Do not convert ISO-8601 strings in attributes to Unix seconds')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat skipped records as invalid')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue an interrupted run from its checkpoint')
            [CompletionResult]::new('--sandbox', '--sandbox', [CompletionResultType]::ParameterName, 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--allow-recent', '--allow-recent', [CompletionResultType]::ParameterName, 'Send even when events fall within the last 72 hours (they can trigger campaigns) or have no timestamp at all')
            [CompletionResult]::new('--dead-letter-append', '--dead-letter-append', [CompletionResultType]::ParameterName, 'Without --checkpoint, add to a dead-letter file that already holds records (refused otherwise, so that one file holds one run''s rejects)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;gdpr' {
            [CompletionResult]::new('--list-format', '--list-format', [CompletionResultType]::ParameterName, 'Format of the list, overriding the extension (`.txt`, `.csv`, `.ndjson`)')
            [CompletionResult]::new('--column', '--column', [CompletionResultType]::ParameterName, 'CSV column holding the person (default: the first of userId, id, email, cio_id)')
            [CompletionResult]::new('--receipt', '--receipt', [CompletionResultType]::ParameterName, 'Where the receipt goes (default `gdpr-<action>-<UTC timestamp>.csv`)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Customer.io account region')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Track API base URL, overriding the region''s host')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, '`batch` packs operations into /api/v2/batch; `sequential` sends one per request')
            [CompletionResult]::new('--site-id', '--site-id', [CompletionResultType]::ParameterName, 'Track API site id (Basic-auth user name)')
            [CompletionResult]::new('--api-key-file', '--api-key-file', [CompletionResultType]::ParameterName, 'Read the Track API key from FILE (first line). Otherwise env CIO_API_KEY is used')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'The Track API key on the command line (visible to other users of this machine; prefer CIO_API_KEY or --api-key-file)')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Requests per second, at most (a token bucket); --rate 0 = unlimited')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Requests in flight at once (batch mode); one person''s records keep their order')
            [CompletionResult]::new('--batch-bytes', '--batch-bytes', [CompletionResultType]::ParameterName, 'Largest batch request body in bytes (never above 500000)')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most operations in one batch request')
            [CompletionResult]::new('--linger', '--linger', [CompletionResultType]::ParameterName, 'Milliseconds a lane waits for more operations before it sends a batch that is not full')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of a request after a 408, 429, 5xx or network error (0 means none)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before one request attempt times out')
            [CompletionResult]::new('--checkpoint', '--checkpoint', [CompletionResultType]::ParameterName, 'Keep a checkpoint in FILE so that an interrupted run can be resumed')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the final summary as JSON to FILE')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store, e.g. the CA of a network that inspects TLS')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress bars on standard error: `auto` only when it is a terminal')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List every person and the operation that would be sent, then stop')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Go on without the interactive confirmation (needed when not on a terminal)')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue an interrupted run from its checkpoint')
            [CompletionResult]::new('--sandbox', '--sandbox', [CompletionResultType]::ParameterName, 'Start the local sandbox in-process on a free loopback port and send to it (no account needed)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;verify' {
            [CompletionResult]::new('--files-from', '--files-from', [CompletionResultType]::ParameterName, 'Also read the files (or folders) listed in FILE, one path a line (`-`: standard input)')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Input format, overriding the file extension (needed for stdin, which defaults to ndjson)')
            [CompletionResult]::new('--transform', '--transform', [CompletionResultType]::ParameterName, 'Reshape every record with this jq program before it is mapped: a record may become no record, one or several (a CSV row is the object of its cells). See README, Inputs')
            [CompletionResult]::new('--transform-file', '--transform-file', [CompletionResultType]::ParameterName, 'Read the --transform program from FILE')
            [CompletionResult]::new('--preset', '--preset', [CompletionResultType]::ParameterName, 'A transform shipped in the binary for an export: mixpanel (raw event and profile export), amplitude (Export API)')
            [CompletionResult]::new('--region', '--region', [CompletionResultType]::ParameterName, 'Customer.io account region (decides the Track API host)')
            [CompletionResult]::new('--endpoint', '--endpoint', [CompletionResultType]::ParameterName, 'Track API base URL, overriding the region''s host (for example a sandbox)')
            [CompletionResult]::new('--mapping', '--mapping', [CompletionResultType]::ParameterName, 'TOML file renaming or adding trigger event names per action, or switching actions off')
            [CompletionResult]::new('--event-id', '--event-id', [CompletionResultType]::ParameterName, 'How event ids (de-duplication) are made for track, page and screen operations')
            [CompletionResult]::new('--mode', '--mode', [CompletionResultType]::ParameterName, '`batch` packs operations into /api/v2/batch; `sequential` sends one per /api/v2/entity request')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only replay events at or after this time (RFC 3339 or a date); earlier ones are skipped')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only replay events before this time (RFC 3339 or a date); later ones are skipped')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'Show progress bars on standard error: `auto` only when it is a terminal')
            [CompletionResult]::new('--app-endpoint', '--app-endpoint', [CompletionResultType]::ParameterName, 'App API base URL, overriding the region''s host (https://api.customer.io or https://api-eu.customer.io); plain http only to a loopback host, such as a sandbox')
            [CompletionResult]::new('--app-api-key-file', '--app-api-key-file', [CompletionResultType]::ParameterName, 'Read the App API key from FILE (first line). Otherwise env CIO_APP_API_KEY is used. Not the Track API key')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Check a deterministic sample of N people (chosen by --seed) instead of everyone, holding only their expected state in memory')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the --sample choice: the same seed and input give the same people')
            [CompletionResult]::new('--report', '--report', [CompletionResultType]::ParameterName, 'Write the counts and the first differences as JSON to FILE')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Retries of an App API request after a 429, 5xx or network error (0 means none)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Seconds before one App API request attempt times out')
            [CompletionResult]::new('--ca-bundle', '--ca-bundle', [CompletionResultType]::ParameterName, 'Trust only the certificate authorities in FILE (PEM) instead of the operating system''s store')
            [CompletionResult]::new('--print-transform', '--print-transform', [CompletionResultType]::ParameterName, 'Print the --preset''s jq program and exit, to copy and adapt for --transform-file')
            [CompletionResult]::new('--no-convert-timestamps', '--no-convert-timestamps', [CompletionResultType]::ParameterName, 'Do not convert ISO-8601 strings in attributes to Unix seconds')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat skipped records as invalid')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but errors (no progress, no summary on standard error)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;sandbox' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port on 127.0.0.1 (0 chooses a free one)')
            [CompletionResult]::new('--site-id', '--site-id', [CompletionResultType]::ParameterName, 'Site id the sandbox accepts (Basic-auth user name); default env CIO_SITE_ID or `sandbox`')
            [CompletionResult]::new('--api-key', '--api-key', [CompletionResultType]::ParameterName, 'API key the sandbox accepts; default env CIO_API_KEY or `sandbox-key`')
            [CompletionResult]::new('--app-api-key', '--app-api-key', [CompletionResultType]::ParameterName, 'App API key the sandbox accepts as `Authorization: Bearer`; default env CIO_APP_API_KEY or `sandbox-app-key`. It must differ from the Track API key')
            [CompletionResult]::new('--workspace-region', '--workspace-region', [CompletionResultType]::ParameterName, 'Region `GET /api/v1/accounts/region` reports (its `url` is always the sandbox''s own)')
            [CompletionResult]::new('--latency-ms', '--latency-ms', [CompletionResultType]::ParameterName, 'Delay every reply by N milliseconds')
            [CompletionResult]::new('--fail-rate', '--fail-rate', [CompletionResultType]::ParameterName, 'Fraction (0 to 1) of requests answered with an injected 500, 502 or 503')
            [CompletionResult]::new('--throttle', '--throttle', [CompletionResultType]::ParameterName, 'Answer 429 with Retry-After above RPS requests per second')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the fault injection, for repeatable runs')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;man' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'cio-replay;help' {
            [CompletionResult]::new('validate', 'validate', [CompletionResultType]::ParameterValue, 'Read, parse and validate every record and route it; print one line per problem. Sends nothing')
            [CompletionResult]::new('dry-run', 'dry-run', [CompletionResultType]::ParameterValue, 'Map every record to the exact operation it would send, as NDJSON. Sends nothing')
            [CompletionResult]::new('send', 'send', [CompletionResultType]::ParameterValue, 'Map and send to the Track API, sequentially or in rate-limited batches')
            [CompletionResult]::new('gdpr', 'gdpr', [CompletionResultType]::ParameterValue, 'Delete, suppress or unsuppress a list of people (ids or emails), with a confirmation gate')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Read the people the input touches back through the App API and compare them with the state the input says they should be in; one NDJSON line per difference')
            [CompletionResult]::new('sandbox', 'sandbox', [CompletionResultType]::ParameterValue, 'Serve a local stand-in for the Customer.io Track API (and the App API''s people reads) on loopback')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for SHELL')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page (roff) of the program, or of one COMMAND')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'cio-replay;help;validate' {
            break
        }
        'cio-replay;help;dry-run' {
            break
        }
        'cio-replay;help;send' {
            break
        }
        'cio-replay;help;gdpr' {
            break
        }
        'cio-replay;help;verify' {
            break
        }
        'cio-replay;help;sandbox' {
            break
        }
        'cio-replay;help;completions' {
            break
        }
        'cio-replay;help;man' {
            break
        }
        'cio-replay;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
