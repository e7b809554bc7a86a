--- The fleet commands (bpfiter export, bpfiter serve) as CLI commands:
-- lua/bpfiter/export.lua parses their arguments and returns the exit
-- status. fleet(cmd, synopsis) -> the command module.
return function(cmd, synopsis)
  return {
    synopsis = { synopsis },
    help = function() return require("bpfiter.export").usage[cmd] end,
    run = function(argv) return require("bpfiter.export")[cmd]({ table.unpack(argv, 2) }) end,
  }
end
