--- The one command-line parser of every command, driven by declarations in
-- the shape of bpfiter.options ({name =, type =, arg =, help =, ...}): a
-- target's options come from bpfiter.options as the C core declares them;
-- a command's own flags (cli = true) are declared beside the command.
-- The parser only turns words into typed values; the library checks the
-- target's options (ranges, words) where they are declared, once.
--
-- Spelling: an option named min_pages is written --min-pages (as help
-- shows it) or --min_pages; booleans take --NAME and --no-NAME.
local common = require "bpfiter.cli.common"

local M = {}

--- The flag of an option name: min_pages -> --min-pages.
function M.flag(name)
  return "--" .. (name:gsub("_", "-"))
end

-- The core's declaration of the fields option every target accepts
-- (options.c): the CLI's --fields is that option, as a list of columns.
local function core_fields()
  local bpfiter = require "bpfiter"
  for _, d in ipairs(bpfiter.options[bpfiter.target_names[1]]) do
    if d.name == "fields" then return d end
  end
end

local fields = core_fields()

--- Output options of every command that prints records. Records are
-- written as the walk yields them, except with --sort.
M.output = {
  { name = "json", type = "boolean", cli = true, help = "JSON array of objects (all fields unless --fields)" },
  { name = "jsonl", type = "boolean", cli = true, help = "one JSON object per line (all fields unless --fields)" },
  { name = "csv", type = "boolean", cli = true, help = "CSV with a header row (all fields unless --fields)" },
  { name = "fields", type = "string", cli = true, arg = fields.arg,
    help = 'columns, in this order ("all": every field); the walk decodes only these and what'
      .. ' --sort and --where read' },
  { name = "where", type = "string", cli = true, arg = "EXPR",
    help = 'only records for which the Lua expression EXPR over their fields is true: state == "D" and uid == 0' },
  { name = "sort", type = "string", cli = true, arg = "A,-B",
    help = "sort by A, then B, ...: numbers descending, text ascending; -F descending, +F ascending" },
  { name = "limit", type = "integer", cli = true, arg = "N",
    help = "at most N records (after sorting); without --sort the walk stops there" },
}

-- word -> typed value for declaration d, or a usage error naming the flag.
local function convert(d, flag, word)
  local n = word:match("^[+-]?%d+$") and math.tointeger(tonumber(word))
  if d.type == "integer" then
    if not n then common.usage_error("%s needs an integer (%s), got '%s'", flag, d.arg or "N", word) end
    if d.cli and n < 0 then common.usage_error("%s needs a count (0 or more), got '%s'", flag, word) end
    return n
  elseif d.type == "integer|string" then
    return n or word
  elseif d.type == "seconds" then
    local s = tonumber(word)
    if not s or not (s > 0 and s < 1e9) then
      common.usage_error("%s needs a positive number of seconds, got '%s'", flag, word)
    end
    return s
  end
  return word
end

local function find(groups, name)
  local key = name:gsub("-", "_")
  for _, decls in ipairs(groups) do
    for _, d in ipairs(decls) do
      -- a target's fields option is written as the output option --fields
      if d.name == key and d.type ~= "fields" then return d end
    end
  end
end

--- Parses argv[first..] against groups (lists of declarations). Returns
-- o = {options = {target option = value}, help = true|nil, format =
-- "table"|"json"|"csv", <cli flag> = value} and the positional words.
-- `--` ends the options: what follows is positional (a file named --help).
-- what: the command as the user wrote it, for messages; help() returns
-- its help, which -h or --help prints (exit 0) instead of running it.
function M.parse(argv, first, groups, what, help)
  local o, args = { options = {} }, {}
  local i = first
  local only_args = false
  while i <= #argv do
    local a = argv[i]
    if only_args or a == "-" or not a:match("^%-") then
      args[#args + 1] = a
    elseif a == "--" then
      only_args = true
    elseif a == "-h" or a == "--help" then
      o.help = true
    else
      local name, inline = a:match("^%-%-([%w_-]+)=(.*)$")
      name = name or a:match("^%-%-([%w_-]+)$")
      local d = name and find(groups, name)
      local negated = false
      if not d and name and name:match("^no%-") then
        d = find(groups, name:sub(4))
        negated = d ~= nil
        if d and d.type ~= "boolean" then d = nil end
      end
      if not d then common.usage_error("unknown option '%s' for %s (see bpfiter help %s)", a, what, what) end
      local flag = M.flag(d.name)
      local value
      if d.type == "boolean" then
        if inline then common.usage_error("%s takes no value", flag) end
        value = not negated
      else
        if not inline then
          i = i + 1
          inline = argv[i]
          if inline == nil then common.usage_error("%s needs a value (%s)", flag, d.arg or d.type) end
        end
        value = convert(d, flag, inline)
      end
      if d.cli then o[d.name] = value else o.options[d.name] = value end
    end
    i = i + 1
  end
  if o.help then error(setmetatable({ text = help() }, common.Help), 0) end
  if ((o.json and 1 or 0) + (o.jsonl and 1 or 0) + (o.csv and 1 or 0)) > 1 then
    common.usage_error("choose one of --json, --jsonl and --csv")
  end
  -- The output format of the commands that print records (those taking
  -- M.output); a command's own --format (export) is left alone.
  for _, g in ipairs(groups) do
    if g == M.output then o.format = o.json and "json" or o.jsonl and "jsonl" or o.csv and "csv" or "table" end
  end
  return o, args
end

--- The declarations of decls with the given scope ("kernel": what a pin
-- fixes, "reader": what a view's reader may add).
function M.scoped(decls, scope)
  local list = {}
  for _, d in ipairs(decls or {}) do
    if d.scope == scope then list[#list + 1] = d end
  end
  return list
end

--- Usage lines: rows of {synopsis, what it does}, the first after "usage:".
function M.synopsis(rows)
  local out = {}
  for i, r in ipairs(rows) do
    local left = (i == 1 and "usage: " or "       ") .. "bpfiter " .. r[1]
    out[i] = #left <= 35 and ("%-35s  %s"):format(left, r[2]) or ("%s\n%37s%s"):format(left, "", r[2])
  end
  return table.concat(out, "\n")
end

--- Help lines for declarations: "  --min-pages PAGES    only files ...".
function M.describe(decls)
  local rows, width = {}, 0
  for _, d in ipairs(decls) do
    -- a target's booleans default either way; a command's flags are off
    local left = d.type == "boolean" and (d.cli and M.flag(d.name) or ("--[no-]%s"):format(M.flag(d.name):sub(3)))
      or ("%s %s"):format(M.flag(d.name), d.arg or d.type:upper())
    if d.words then left = ("%s %s"):format(M.flag(d.name), table.concat(d.words, "|")) end
    rows[#rows + 1] = { left, d.help or "" }
    if #left > width then width = #left end
  end
  local out = {}
  for i, r in ipairs(rows) do out[i] = ("  %-" .. width .. "s  %s"):format(r[1], r[2]) end
  return table.concat(out, "\n")
end

return M
