# cio-replay preset "mixpanel": a Mixpanel raw export (one JSON object per line, as the
# /api/2.0/export endpoint and the data pipelines write it) to Segment-spec events.
#
#   {"event": NAME, "properties": {...}}          -> track (the $identify and $create_alias
#                                                    events -> identify and alias)
#   {"$distinct_id": ID, "$properties": {...}}    -> identify (a profile of the engage export)
#
# properties.time (Unix seconds, or milliseconds)  -> timestamp
# properties.$insert_id                           -> messageId
# properties.$user_id, else distinct_id            -> userId (not a "$device:" id)
# properties.$device_id, else a "$device:" id      -> anonymousId
# $os $os_version $city $region mp_country_code $current_url $referrer $screen_width
# $screen_height mp_lib $lib_version $ip           -> context (os, location, page, screen, library, ip)
# Mixpanel's bookkeeping (mp_processing_time_ms, $mp_api_endpoint, $mp_api_timestamp_ms)
# is dropped; every other property is kept under its name, $-names included.
# Print this program with `cio-replay dry-run --preset mixpanel --print-transform`, adapt it,
# and run your copy with --transform-file.

def user_id($p):
  $p["$user_id"] // ($p.distinct_id | if type == "string" and startswith("$device:") then null else . end);
def anonymous_id($p):
  $p["$device_id"] // ($p.distinct_id | if type == "string" and startswith("$device:") then .[8:] else null end);

if has("$distinct_id") then
  {type: "identify", userId: .["$distinct_id"],
   traits: (.["$properties"] // {} | with_entries(.key |= ltrimstr("$")))}
else
  (.properties // {}) as $p
  | if .event == "$identify" then
      {type: "identify", userId: ($p["$identified_id"] // user_id($p)),
       anonymousId: ($p["$anon_distinct_id"] // anonymous_id($p)),
       timestamp: $p.time, messageId: $p["$insert_id"]}
    elif .event == "$create_alias" then
      {type: "alias", userId: $p.alias, previousId: $p.distinct_id,
       timestamp: $p.time, messageId: $p["$insert_id"]}
    else
      {type: "track", event: .event, userId: user_id($p), anonymousId: anonymous_id($p),
       timestamp: $p.time, messageId: $p["$insert_id"],
       context: {ip: $p["$ip"],
                 os: {name: $p["$os"], version: $p["$os_version"]},
                 location: {city: $p["$city"], region: $p["$region"], country: $p.mp_country_code},
                 page: {url: $p["$current_url"], referrer: $p["$referrer"]},
                 screen: {width: $p["$screen_width"], height: $p["$screen_height"]},
                 library: {name: $p.mp_lib, version: $p["$lib_version"]}},
       properties: ($p | del(.time, .distinct_id, .["$insert_id"], .["$user_id"], .["$device_id"],
                             .["$os"], .["$os_version"], .["$city"], .["$region"], .mp_country_code,
                             .["$current_url"], .["$referrer"], .["$screen_width"],
                             .["$screen_height"], .mp_lib, .["$lib_version"], .["$ip"],
                             .mp_processing_time_ms, .["$mp_api_endpoint"],
                             .["$mp_api_timestamp_ms"]))}
    end
end
