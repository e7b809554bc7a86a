--- Turns flat records into text: an aligned table, CSV, JSON or JSON lines.
-- M.writer(format, fields, opts) writes records one at a time as they come
-- (the CLI streams walks through it); M.table, M.csv and M.json take an
-- array and return one string. fields is the ordered list of columns; nil
-- values become "-" (table), an empty cell (CSV) or null (JSON), so every
-- row has the same columns.
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

-- The core's row formatter (csrc/core/text_row.c): the common rows of
-- CSV and JSON in C, nil for a row it leaves to the Lua below.
local ok_core, core = pcall(require, "bpfiter.core")
local text_row = ok_core and core.text_row or function() return nil end

-- Whether the C formatter can write rows of these columns: names that
-- are identifiers (JSON keys as they are), none of them binary.
local function c_columns(fields)
  for _, f in ipairs(fields) do
    if M.binary[f] or not f:match("^[%a_][%w_]*$") then return false end
  end
  return #fields > 0
end

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

-- One table line: cells padded to width, numbers right-aligned, no
-- trailing blanks after the last column; a cell wider than its column
-- (past the window, below) pushes the rest of its line right.
local function table_line(cells, width, numeric)
  local parts, n = {}, #cells
  for c, s in ipairs(cells) do
    local w = columns(s)
    local pad = w < width[c] and (" "):rep(width[c] - w) or ""
    if numeric[c] then
      parts[c] = pad .. s
    elseif c < n then
      parts[c] = s .. pad
    else
      parts[c] = s
    end
  end
  return table.concat(parts, "  ")
end

-- The table writer: rows wait in a window (window rows; nil: all) until
-- the column widths and alignments are known from them and the header,
-- then print; rows after the window print at once with those widths.
local function table_writer(fields, opts, out)
  local show, headers, window = opts.show or {}, opts.headers or fields, opts.window or math.huge
  local width, numeric, pending = {}, {}, {}
  for c, h in ipairs(headers) do width[c], numeric[c] = columns(h), true end
  local fixed = false
  local function flush()
    fixed = true
    out(table_line(headers, width, numeric), "\n")
    for _, cells in ipairs(pending) do out(table_line(cells, width, numeric), "\n") end
    pending = nil
  end
  local w = {}
  function w.row(rec)
    local cells = {}
    for c, f in ipairs(fields) do
      local v = rec[f]
      local s = table_cell(f, v, show)
      cells[c] = s
      if not fixed then
        if v ~= nil and type(v) ~= "number" then numeric[c] = false end
        local n = columns(s)
        if n > width[c] then width[c] = n end
      end
    end
    if fixed then return out(table_line(cells, width, numeric), "\n") end
    pending[#pending + 1] = cells
    if #pending >= window then flush() end
  end
  function w.close()
    if not fixed then flush() end
  end
  return w
end

--- Aligned columns under a header of field names. Columns whose values are
-- all numbers are right-aligned; `show` optionally maps a field name to a
-- function that renders its value (e.g. addresses in hex).
function M.table(records, fields, show)
  return M.collect("table", records, fields, { show = show })
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

local function csv_writer(fields, _, out)
  local row, n = {}, #fields
  for c, f in ipairs(fields) do row[c] = csv_quote(f) end
  out(table.concat(row, ","), "\n")
  local fast = c_columns(fields)
  local w = {}
  function w.row(rec)
    local line = fast and text_row(false, fields, rec)
    if line then return out(line, "\n") end
    for c = 1, n do
      local f = fields[c]
      local v = rec[f]
      local t = type(v)
      if t == "number" and not M.binary[f] then
        row[c] = v
      elseif t == "string" and not M.binary[f] and not v:find('[,"\r\n]') then
        row[c] = v
      else
        row[c] = csv_field(f, v)
      end
    end
    out(table.concat(row, ","), "\n")
  end
  function w.close() end
  return w
end

function M.csv(records, fields) return M.collect("csv", records, fields) end

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
  if not s:find('[%z\1-\31"\\\127-\255]') then return '"' .. s .. '"' end
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

-- A field's value in JSON: integers and plain strings directly (most
-- values), the rest through json_value and json_bytes.
local function json_field(f, v)
  local t = math.type(v)
  if t == "integer" then return v end
  if type(v) == "string" and not M.binary[f] then return json_string(v) end
  if v ~= nil and M.binary[f] then return json_bytes(v) end
  return json_value(v)
end

-- JSON objects with exactly `fields` as keys, one per line (jsonl), or
-- as the elements of one array written as they come (json: "[]" when
-- there are no records; cjson would encode an empty table as {}).
local function json_writer(fields, opts, out)
  need_cjson()
  local keys, obj, n = {}, {}, #fields
  for c, f in ipairs(fields) do keys[c] = (c == 1 and "{" or ",") .. json_string(f) .. ":" end
  local lines = opts.lines
  local first = true
  local fast = c_columns(fields)
  local w = {}
  function w.row(rec)
    local text = fast and text_row(true, fields, rec)
    if not text then
      for c = 1, n do
        local f = fields[c]
        obj[2 * c - 1], obj[2 * c] = keys[c], json_field(f, rec[f])
      end
      obj[2 * n + 1] = "}"
      text = table.concat(obj)
    end
    if lines then return out(text, "\n") end
    out(first and "[\n" or ",\n", text)
    first = false
  end
  function w.close()
    if not lines then out(first and "[]\n" or "\n]\n") end
  end
  return w
end

local writers = {
  table = table_writer, csv = csv_writer, json = json_writer,
  jsonl = function(fields, opts, out)
    local o = setmetatable({ lines = true }, { __index = opts })
    return json_writer(fields, o, out)
  end,
}

--- A writer of records with the columns `fields` in format fmt ("table",
-- "csv", "json" or "jsonl"), calling out(...) with the text pieces as they
-- are ready. Returns {row = function(record), close = function()}: close
-- writes what the format needs at the end. opts (optional): show = {field
-- = render} and headers = {column titles} (table), window = rows a table
-- waits for before its widths are fixed (default: all of them).
function M.writer(fmt, fields, opts, out)
  return writers[fmt](fields, opts or {}, out)
end

--- The records of an array through M.writer, as one string.
function M.collect(fmt, records, fields, opts)
  local buf, n = {}, 0
  local w = M.writer(fmt, fields, opts, function(...)
    for i = 1, select("#", ...) do
      n = n + 1
      buf[n] = select(i, ...)
    end
  end)
  for _, rec in ipairs(records) do w.row(rec) end
  w.close()
  return table.concat(buf)
end

--- A JSON array of objects with exactly `fields` as keys; "[]" when there
-- are no records.
function M.json(records, fields) return M.collect("json", records, fields) end

--- One JSON object per line.
function M.jsonl(records, fields) return M.collect("jsonl", records, fields) end

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
