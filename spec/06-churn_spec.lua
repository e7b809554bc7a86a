-- Processes exiting and files closing while a walk runs: every walk ends
-- normally (no crash, no hang, no error).
local bpfiter = require "bpfiter"
local H = require "helper"

describe("churn", function()
  it("walks tasks, files and vmas to the end while processes come and go", function()
    local fx = H.fixture("churn", 3)
    finally(function() fx.stop() end)
    local walks, records = 0, 0
    local deadline = os.time() + 3
    repeat
      for _, target in ipairs { "tasks", "files", "vmas" } do
        for _ in assert(bpfiter[target]()) do records = records + 1 end
        walks = walks + 1
      end
    until os.time() >= deadline
    assert.is_true(walks >= 3)
    assert.is_true(records > 0)
  end)

  it("ends a per-process walk cleanly when that process exits mid-walk", function()
    for _ = 1, 20 do
      local fx = H.fixture("maps", 2000, "$DIR")
      local n = 0
      local ok, err = pcall(function()
        for _ in assert(bpfiter.vmas { pid = fx.pid }) do
          n = n + 1
          if n == 100 then fx.stop() end
        end
      end)
      fx.stop()
      assert.is_true(ok, err)
      assert.is_true(n >= 100)
    end
  end)
end)
