-- Runs an Argo CD health script the way Argo CD does: the object in the global `obj`,
-- only the base, string, table and math libraries (no io, os, require), and the
-- script's return value as the result. Usage: lua5.4 argocd_health_runner.lua
-- HEALTH_LUA OBJECT_LUA (a file returning the object as a table). Prints the status
-- on the first line and the message on the second.
local health_path, object_path = arg[1], arg[2]
if health_path == nil or object_path == nil then
  io.stderr:write("usage: argocd_health_runner.lua HEALTH_LUA OBJECT_LUA\n")
  os.exit(2)
end

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("a")
  file:close()
  return text
end

local object = assert(load(read(object_path), "@" .. object_path, "t", {}))()

local sandbox = {
  obj = object,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
  pcall = pcall, select = select, tonumber = tonumber, tostring = tostring, type = type,
  unpack = table.unpack,
  string = string, table = table, math = math,
}
local script, load_error = load(read(health_path), "@" .. health_path, "t", sandbox)
if script == nil then
  io.stderr:write("health script does not compile: " .. load_error .. "\n")
  os.exit(1)
end
local ok, hs = pcall(script)
if not ok then
  io.stderr:write("health script failed: " .. tostring(hs) .. "\n")
  os.exit(1)
end
if type(hs) ~= "table" then
  io.stderr:write("health script returned " .. type(hs) .. ", not a table\n")
  os.exit(1)
end
io.write(tostring(hs.status), "\n", tostring(hs.message), "\n")
