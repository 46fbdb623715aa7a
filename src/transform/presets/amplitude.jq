# cio-replay preset "amplitude": an Amplitude export (the Export API's NDJSON, one event a line)
# to Segment-spec events.
#
#   event_type "$identify"                -> identify (traits: user_properties)
#   any other event                       -> track; when it carries user_properties, an identify
#                                            with them comes first (two records from one)
#
# event_type        -> event                  user_id      -> userId
# device_id         -> anonymousId            insert_id    -> messageId
# event_time (UTC, "2024-01-15 10:02:03.123000") -> timestamp "2024-01-15T10:02:03.123000Z"
# event_properties  -> properties             user_properties -> traits (identify)
# os_name os_version city region country ip_address language app_version device_model
# device_manufacturer library -> context (os, location, ip, locale, app, device, library)
# Print this program with `cio-replay dry-run --preset amplitude --print-transform`, adapt it,
# and run your copy with --transform-file.

def utc:
  if type == "string" and length >= 19 and .[10:11] == " " then .[0:10] + "T" + .[11:] + "Z"
  else . end;

(.event_time | utc) as $time
| if .event_type == "$identify" then
    {type: "identify", userId: .user_id, anonymousId: .device_id, timestamp: $time,
     messageId: .insert_id, traits: (.user_properties // {})}
  else
    (if (.user_properties // {}) != {} then
       {type: "identify", userId: .user_id, anonymousId: .device_id, timestamp: $time,
        messageId: (if .insert_id then .insert_id + ":identify" else null end),
        traits: .user_properties}
     else empty end),
    {type: "track", event: .event_type, userId: .user_id, anonymousId: .device_id,
     timestamp: $time, messageId: .insert_id, properties: (.event_properties // {}),
     context: {ip: .ip_address, locale: .language,
               os: {name: .os_name, version: .os_version},
               location: {city: .city, region: .region, country: .country},
               app: {version: .app_version},
               device: {model: .device_model, manufacturer: .device_manufacturer},
               library: {name: .library}}}
  end
