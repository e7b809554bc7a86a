-- Turns a Lua source file into a C array: lua5.4 embed.lua IN OUT NAME
local src = assert(io.open(arg[1], "rb")):read("a")
local out = assert(io.open(arg[2], "wb"))
out:write("/* generated from ", arg[1], " by csrc/embed.lua */\n")
out:write("const char ", arg[3], "[] = {\n")
for i = 1, #src, 16 do
  local bytes = { src:byte(i, math.min(i + 15, #src)) }
  out:write(table.concat(bytes, ","), ",\n")
end
out:write("0 };\n")
out:write("const unsigned long ", arg[3], "_size = ", #src, ";\n")
out:close()
