--- bpfiter export: one metrics exposition (lua/bpfiter/export.lua).
return require("bpfiter.cli.fleet")("export",
  { "export [--textfile PATH.prom] [--collectors a,b] [--top N]", "metrics of this machine (OpenMetrics)" })
