--- bpfiter serve: a /metrics endpoint (lua/bpfiter/export.lua).
return require("bpfiter.cli.fleet")("serve", { "serve [--listen HOST:PORT]", "a /metrics endpoint for Prometheus" })
