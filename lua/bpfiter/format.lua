--- Turns arrays of flat records into text: an aligned table, CSV or JSON.
-- Every formatter takes (records, fields) — fields is the ordered list of
-- columns — and returns one string; nil values become "-" (table), an empty
-- cell (CSV) or null (JSON), so every row has the same columns.
local M = {}

local json_value -- below

-- Nested values (arrays of ids, decoded map values) print as compact JSON.
local function cell(v)
  if v == nil then return "-" end
  if type(v) == "table" then return json_value(v) end
  return tostring(v)
end

--- Aligned columns under a header of field names. Columns whose values are
-- all numbers are right-aligned; `show` optionally maps a field name to a
-- function that renders its value (e.g. addresses in hex).
function M.table(records, fields, show)
  show = show or {}
  local rows, width, numeric = {}, {}, {}
  for c, f in ipairs(fields) do
    width[c], numeric[c] = #f, true
  end
  for r, rec in ipairs(records) do
    local row = {}
    for c, f in ipairs(fields) do
      local v = rec[f]
      if v ~= nil and type(v) ~= "number" then numeric[c] = false end
      local s = (v ~= nil and show[f]) and show[f](v) or cell(v)
      row[c] = s
      if #s > width[c] then width[c] = #s end
    end
    rows[r] = row
  end
  local function line(row)
    local parts = {}
    for c, s in ipairs(row) do
      local pad = (" "):rep(width[c] - #s)
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
local function csv_field(v)
  if v == nil then return "" end
  local s = cell(v)
  if s:find('[,"\r\n]') then s = '"' .. s:gsub('"', '""') .. '"' end
  return s
end

function M.csv(records, fields)
  local out, row = {}, {}
  for c, f in ipairs(fields) do row[c] = csv_field(f) end
  out[1] = table.concat(row, ",")
  for r, rec in ipairs(records) do
    for c, f in ipairs(fields) do row[c] = csv_field(rec[f]) end
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

-- lua-cjson 2.1 (Debian 12) prints every number with %.14g, so addresses,
-- cgroup ids and nanosecond times would come out rounded; integers are
-- therefore written here and cjson only escapes strings and floats.
-- It also writes every "/" as "\/"; since it escapes all of them, each "\/"
-- in its output is such an escape and can go, so paths stay readable.
-- Tables are arrays when they have a [1] (or are empty), objects otherwise.
function json_value(v)
  if v == nil then return "null" end
  if math.type(v) == "integer" then return ("%d"):format(v) end
  need_cjson()
  if type(v) == "string" then return (cjson.encode(v):gsub("\\/", "/")) end
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
    parts[i] = json_value(k) .. ":" .. json_value(v[k] == nil and v[tonumber(k)] or v[k])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

--- A JSON array of objects with exactly `fields` as keys; "[]" when there
-- are no records (cjson would encode an empty table as {}).
function M.json(records, fields)
  need_cjson()
  local keys = {}
  for c, f in ipairs(fields) do keys[c] = cjson.encode(f) .. ":" end
  local out = {}
  for r, rec in ipairs(records) do
    local obj = {}
    for c, f in ipairs(fields) do obj[c] = keys[c] .. json_value(rec[f]) end
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
