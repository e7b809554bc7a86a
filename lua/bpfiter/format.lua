--- Turns arrays of flat records into text: an aligned table, CSV or JSON.
-- Every formatter takes (records, fields) — fields is the ordered list of
-- columns — and returns one string; nil values become "-" (table), an empty
-- cell (CSV) or null (JSON), so every row has the same columns.
--
-- Strings from the kernel (paths, comm, names) are bytes, not always UTF-8
-- and not always printable; each format writes them so it stays valid:
--   * table: C escapes for what a terminal would act on (escape below);
--   * CSV: the bytes as they are, quoted per RFC 4180 (lossless);
--   * JSON: a string when the bytes are valid UTF-8, otherwise an array of
--     the byte values (json_string below) — always valid and lossless.
-- Fields in M.binary hold raw bytes and print as hex, as bpftool does.
local M = {}

local json_value -- below

--- Fields whose values are raw bytes, not text: map_elems' key and value
-- (a string; for per-CPU maps an array of strings, one per CPU).
M.binary = { key_bytes = true, value_bytes = true }

-- Backslash and the control characters with a short C escape; other
-- controls print as \xHH (ESC as \x1b), as `ls -b` and `ss` do.
local SHORT = { ["\\"] = "\\\\", ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r" }

local function hex_escape(c)
  return (c:gsub(".", function(b) return ("\\x%02x"):format(b:byte()) end))
end

-- A run of valid UTF-8: escapes C0 controls, DEL, backslash, and the C1
-- controls U+0080..U+009F (some terminals obey them in UTF-8 too; 0x9b is
-- CSI), the latter as their two bytes.
local function escape_utf8(run)
  return (run:gsub("[\0-\31\\\127]", function(c) return SHORT[c] or hex_escape(c) end)
    :gsub("\194[\128-\159]", hex_escape))
end

--- s rewritten piece by piece: each run of valid UTF-8 (as Lua's
-- utf8.len decides: no surrogates, no overlong forms) through valid(run),
-- each byte that is not part of one through invalid(byte); both return
-- strings. The one walk over bad UTF-8 every output format shares.
function M.utf8_map(s, valid, invalid)
  local out, i = {}, 1
  while i <= #s do
    local ok, bad = utf8.len(s, i)
    if ok then
      out[#out + 1] = valid(s:sub(i))
      break
    end
    out[#out + 1] = valid(s:sub(i, bad - 1))
    out[#out + 1] = invalid(s:sub(bad, bad))
    i = bad + 1
  end
  return table.concat(out)
end

--- s made safe to print on a terminal and unambiguous: valid UTF-8 text
-- stays as it is, except backslash (\\), \n, \t, \r, other control
-- characters and every byte that is not part of valid UTF-8 (\xHH).
function M.escape(s)
  if not s:find("[\0-\31\\\127-\255]") then return s end
  return M.utf8_map(s, escape_utf8, hex_escape)
end

-- Raw bytes in hex the way `bpftool map dump` prints them: "01 00 00 00",
-- two spaces after every 8 bytes (bpftool also breaks the line after 16;
-- in one cell that is two spaces too).
local function hex_bytes(s)
  local out = {}
  for i = 1, #s do
    out[i] = (i == 1 and "" or (i - 1) % 8 == 0 and "  " or " ") .. ("%02x"):format(s:byte(i))
  end
  return table.concat(out)
end

-- A binary field as text: hex; per-CPU values one after the other in CPU
-- order, separated by " | " (bpftool gives each a "value (CPU NN):" line).
local function text_bytes(v)
  if type(v) ~= "table" then return hex_bytes(v) end
  local parts = {}
  for i, x in ipairs(v) do parts[i] = hex_bytes(x) end
  return table.concat(parts, " | ")
end

-- A binary field in JSON as bpftool --json writes keys and values: an
-- array of "0xHH" strings; per-CPU values as an array of those.
local function json_bytes(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = json_bytes(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return "[" .. v:gsub(".", function(c) return ('"0x%02x",'):format(c:byte()) end):sub(1, -2) .. "]"
end

-- A table cell: escaped text; nested values (arrays of ids, decoded map
-- values) as compact JSON, which has no raw control characters.
local function table_cell(f, v, show)
  if v == nil then return "-" end
  if show[f] then return M.escape(tostring(show[f](v))) end
  if M.binary[f] then return text_bytes(v) end
  if type(v) == "table" then return json_value(v) end
  if type(v) == "string" then return M.escape(v) end
  return tostring(v)
end

-- Columns on the screen: escaped cells are valid UTF-8, so one code point
-- is one column (wide characters aside).
local function columns(s)
  return utf8.len(s) or #s
end

--- Aligned columns under a header of field names. Columns whose values are
-- all numbers are right-aligned; `show` optionally maps a field name to a
-- function that renders its value (e.g. addresses in hex).
function M.table(records, fields, show)
  show = show or {}
  local rows, width, numeric, cols = {}, {}, {}, {}
  for c, f in ipairs(fields) do
    width[c], numeric[c] = #f, true
  end
  for r, rec in ipairs(records) do
    local row = {}
    for c, f in ipairs(fields) do
      local v = rec[f]
      if v ~= nil and type(v) ~= "number" then numeric[c] = false end
      local s = table_cell(f, v, show)
      row[c], cols[s] = s, cols[s] or columns(s)
      if cols[s] > width[c] then width[c] = cols[s] end
    end
    rows[r] = row
  end
  local function line(row)
    local parts = {}
    for c, s in ipairs(row) do
      local pad = (" "):rep(width[c] - (cols[s] or #s))
      if numeric[c] then
        parts[c] = pad .. s
      elseif c < #row then
        parts[c] = s .. pad
      else
        parts[c] = s -- no trailing blanks after the last column
      end
    end
    return table.concat(parts, "  ")
  end
  local out = { line(fields) }
  for r, row in ipairs(rows) do out[r + 1] = line(row) end
  return table.concat(out, "\n") .. "\n"
end

-- RFC 4180: a field with a comma, quote or line break is quoted and its
-- quotes doubled. Lines end in "\n", not the RFC's CRLF, as Unix tools expect.
-- Text keeps its bytes (CSV has no escapes; quoting keeps it one field).
local function csv_quote(s)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

local function csv_field(f, v)
  if v == nil then return "" end
  if M.binary[f] then return csv_quote(text_bytes(v)) end
  if type(v) == "table" then return csv_quote(json_value(v)) end
  return csv_quote(tostring(v))
end

function M.csv(records, fields)
  local out, row = {}, {}
  for c, f in ipairs(fields) do row[c] = csv_quote(f) end
  out[1] = table.concat(row, ",")
  for r, rec in ipairs(records) do
    for c, f in ipairs(fields) do row[c] = csv_field(f, rec[f]) end
    out[r + 1] = table.concat(row, ",")
  end
  return table.concat(out, "\n") .. "\n"
end

local cjson
local function need_cjson()
  if cjson then return cjson end
  local ok, mod = pcall(require, "cjson")
  if not ok then
    error("JSON output needs lua-cjson (Debian: apt-get install lua-cjson; or: luarocks install lua-cjson)", 0)
  end
  cjson = mod
  return cjson
end

-- The byte values of s as a JSON array of integers.
local function byte_array(s)
  local parts = {}
  for i = 1, #s do parts[i] = s:byte(i) end
  return "[" .. table.concat(parts, ",") .. "]"
end

-- A string in JSON. Valid UTF-8 (what Lua's utf8.len accepts: no
-- surrogates, no overlong forms) becomes a JSON string; anything else an
-- array of its byte values (0-255), as `journalctl -o json` writes fields
-- that are not UTF-8: valid JSON, and decoded back to the exact bytes
-- (Python: bytes(v) if isinstance(v, list) else v.encode()). Escaping the
-- bad bytes as \u00XX would not be: "\u00ff" already means U+00FF, whose
-- UTF-8 is two other bytes. lua-cjson would copy invalid bytes through.
-- cjson writes control characters as \u00XX; DEL and the C1 controls are
-- escaped here too, so JSON printed on a terminal cannot drive it.
-- cjson also writes every "/" as "\/"; since it escapes all of them, each
-- "\/" in its output is such an escape and can go, so paths stay readable.
local function json_string(s)
  if not utf8.len(s) then return byte_array(s) end
  return (cjson.encode(s):gsub("\\/", "/"):gsub("\127", "\\u007f")
    :gsub("\194([\128-\159])", function(c) return ("\\u%04x"):format(c:byte()) end))
end

-- lua-cjson 2.1 (Debian 12) prints every number with %.14g, so addresses,
-- cgroup ids and nanosecond times would come out rounded; integers are
-- therefore written here and cjson only escapes strings and floats.
-- Tables are arrays when they have a [1] (or are empty), objects otherwise.
function json_value(v)
  if v == nil then return "null" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  need_cjson()
  if type(v) == "string" then return json_string(v) end
  if type(v) ~= "table" then return cjson.encode(v) end
  local parts = {}
  if v[1] ~= nil or next(v) == nil then
    for i, x in ipairs(v) do parts[i] = json_value(x) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for i, k in ipairs(keys) do
    -- A key must be a string: one that is not UTF-8 (never seen: BTF names
    -- are identifiers the kernel checked) is written escaped.
    local key = utf8.len(k) and k or M.escape(k)
    parts[i] = json_string(key) .. ":" .. json_value(v[k] == nil and v[tonumber(k)] or v[k])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- A JSON array of objects with exactly `fields` as keys; "[]" when there
-- are no records (cjson would encode an empty table as {}).
function M.json(records, fields)
  need_cjson()
  local keys = {}
  for c, f in ipairs(fields) do keys[c] = json_string(f) .. ":" end
  local out = {}
  for r, rec in ipairs(records) do
    local obj = {}
    for c, f in ipairs(fields) do
      local v = rec[f]
      obj[c] = keys[c] .. (v ~= nil and M.binary[f] and json_bytes(v) or json_value(v))
    end
    out[r] = "{" .. table.concat(obj, ",") .. "}"
  end
  if #out == 0 then return "[]\n" end
  return "[\n" .. table.concat(out, ",\n") .. "\n]\n"
end

--- Bytes in binary units: "512 B", "4.0 KiB", "1.5 MiB", ...
function M.bytes(n)
  local units = { "KiB", "MiB", "GiB", "TiB", "PiB" }
  if n < 1024 then return ("%d B"):format(n) end
  local i = 0
  repeat
    n, i = n / 1024, i + 1
  until n < 1024 or i == #units
  return ("%.1f %s"):format(n, units[i])
end

return M
