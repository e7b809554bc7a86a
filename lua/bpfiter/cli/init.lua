--- The `bpfiter` command: list one target's records as a table, CSV or
-- JSON, or run one of the commands below. main(argv) returns the exit
-- status: 0 success, 1 runtime failure, 2 usage error.
--
-- One module per command (bpfiter.cli.NAME: synopsis, help(), run(argv)),
-- all on one parser (cli/parse.lua) driven by bpfiter.options, the option
-- declarations of the C core: help and parsing cannot drift apart.
local common = require "bpfiter.cli.common"

local M = {}

-- Commands in the order the usage lists them; "list" is bpfiter TARGET.
local COMMANDS = { "list", "report", "targets", "cache", "pin", "cat", "unpin", "programs", "export", "serve" }

M.commands = COMMANDS

local function command(name) return require("bpfiter.cli." .. name) end

local function is_command(name)
  for _, c in ipairs(COMMANDS) do
    if c == name then return true end
  end
  return false
end

-- Help of the commands this file runs itself.
local OWN_HELP = {
  version = "usage: bpfiter version\nprints the module's version\n",
  help = "usage: bpfiter help [COMMAND|TARGET]\nthe commands, or one command's or target's options\n",
}

M.own_help = OWN_HELP

local function usage_text(bpfiter)
  local parse = require "bpfiter.cli.parse"
  local rows = {}
  for _, name in ipairs(COMMANDS) do
    for _, s in ipairs(command(name).synopsis) do rows[#rows + 1] = s end
  end
  rows[#rows + 1] = { "version", "the module's version" }
  rows[#rows + 1] = { "help [COMMAND|TARGET]", "this text, a command's or a target's options and fields" }
  local out = { parse.synopsis(rows), "" }
  out[#out + 1] = "TARGET: " .. table.concat(bpfiter.target_names, ", ")
  out[#out + 1] = "Each target's options: bpfiter help TARGET (--min-pages and --min_pages are the"
  out[#out + 1] = "same option; booleans take --NAME and --no-NAME)."
  out[#out + 1] = ""
  out[#out + 1] = "output options (every command that lists records):"
  out[#out + 1] = parse.describe(parse.output)
  out[#out + 1] = "  -h, --help      help"
  out[#out + 1] = ""
  out[#out + 1] = "Exit status: 0 ok, 1 the kernel walk failed (no privilege, no such pid),"
  out[#out + 1] = "2 usage error. Needs root, or CAP_BPF and CAP_PERFMON (cat: read access only)."
  return table.concat(out, "\n") .. "\n"
end

-- bpfiter help [COMMAND|TARGET [TARGET]]
local function help(bpfiter, argv)
  local what = argv[2]
  if not what then
    io.stdout:write(usage_text(bpfiter))
  elseif common.is_target(what) then
    io.stdout:write(command("list").help(what))
  elseif what == "pin" and argv[3] and common.is_target(argv[3]) then
    io.stdout:write(command("pin").help(argv[3]))
  elseif OWN_HELP[what] then
    io.stdout:write(OWN_HELP[what])
  elseif what ~= "list" and is_command(what) then
    io.stdout:write(command(what).help())
  else
    common.usage_error("unknown command or target '%s' (see bpfiter help)", what)
  end
  return 0
end

local function run(argv)
  local bpfiter = require "bpfiter"
  local cmd = argv[1]
  if cmd == nil then
    io.stderr:write(usage_text(bpfiter))
    return 2
  elseif cmd == "-h" or cmd == "--help" or cmd == "help" then
    return help(bpfiter, argv)
  elseif cmd == "version" or cmd == "--version" then
    if argv[2] == "-h" or argv[2] == "--help" then return help(bpfiter, { "help", "version" }) end
    if argv[2] then common.usage_error("version takes no arguments") end
    io.stdout:write("bpfiter ", bpfiter.version, "\n")
    return 0
  elseif common.is_target(cmd) then
    return command("list").run(argv, cmd)
  end
  if cmd ~= "list" and is_command(cmd) then return command(cmd).run(argv) end
  common.usage_error("unknown command '%s' (see bpfiter --help)", cmd)
end

M.usage_text = usage_text

function M.main(argv)
  local ok, status = pcall(run, argv or {})
  if ok then return status end
  local kind = getmetatable(status)
  if kind == common.Help then
    io.stdout:write(status.text)
    return 0
  end
  local msg = type(status) == "table" and status.message or common.clean(status)
  io.stderr:write("bpfiter: ", msg, "\n")
  -- Usage errors exit 2; failures (and errors raised in the middle of a
  -- walk: the kernel failing a read) exit 1.
  return kind == common.Usage and 2 or 1
end

return M
