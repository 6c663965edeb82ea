-- Argo CD health check for llmops.dev/LLMDeployment (resource.customizations.health).
-- Argo CD runs this with the live object in `obj` and reads the returned table.
--   status.observedGeneration < metadata.generation -> Progressing (operator behind)
--   phase Healthy -> Healthy; Progressing -> Progressing (step, weight);
--   Paused -> Suspended (why: promote, inconclusive analysis, spec.rollout.paused);
--   Degraded -> Degraded (the Degraded condition's reason and message);
--   no status or no phase yet -> Progressing.
-- Written for Lua 5.1 (Argo CD's gopher-lua) and tested with Lua 5.4: numbers arrive as
-- floats, so they are printed through integer_text, never tostring.

local hs = {}

local function integer_text(value)
  if type(value) ~= "number" then
    return tostring(value)
  end
  if value == math.floor(value) then
    return string.format("%d", value)
  end
  return tostring(value)
end

local function find_condition(status, condition_type)
  if type(status.conditions) ~= "table" then
    return nil
  end
  for _, condition in ipairs(status.conditions) do
    if condition.type == condition_type then
      return condition
    end
  end
  return nil
end

-- "Reason: message", or whichever of the two is set; nil when neither is.
local function describe(condition)
  if condition == nil then
    return nil
  end
  local reason = condition.reason or ""
  local message = condition.message or ""
  if reason ~= "" and message ~= "" then
    return reason .. ": " .. message
  end
  if reason ~= "" then
    return reason
  end
  if message ~= "" then
    return message
  end
  return nil
end

local function join(parts)
  local present = {}
  for _, part in ipairs(parts) do
    if part ~= nil and part ~= "" then
      table.insert(present, part)
    end
  end
  return table.concat(present, "; ")
end

local function steps_of(spec)
  if type(spec) == "table" and type(spec.rollout) == "table" and type(spec.rollout.steps) == "table" then
    return spec.rollout.steps
  end
  return {}
end

-- Where the rollout stands, e.g. "canary revision 4 at currentStep 1 of 5, weight 10%",
-- or "revision 3, 2/3 replicas ready" when no canary runs.
local function position(spec, status)
  if status.canaryRevision ~= nil then
    local steps = steps_of(spec)
    local text = "canary revision " .. integer_text(status.canaryRevision)
    if status.currentStep ~= nil then
      text = text .. " at currentStep " .. integer_text(status.currentStep) .. " of " .. integer_text(#steps)
    end
    return text .. ", weight " .. integer_text(status.canaryWeight or 0) .. "%"
  end
  local text = ""
  if status.stableRevision ~= nil then
    text = "revision " .. integer_text(status.stableRevision) .. ", "
  end
  local wanted = status.replicas
  if type(spec) == "table" and spec.replicas ~= nil then
    wanted = spec.replicas
  end
  return text .. integer_text(status.readyReplicas or 0) .. "/" .. integer_text(wanted or 0) .. " replicas ready"
end

-- Why a rollout is held. spec.rollout.paused wins (it holds whatever the step is); then
-- the step kind: a pause without duration waits for promote, an analysis step holds
-- only when its result was inconclusive.
local function pause_reason(spec, status)
  if type(spec) == "table" and type(spec.rollout) == "table" and spec.rollout.paused == true then
    return "spec.rollout.paused is true"
  end
  local step = nil
  if status.currentStep ~= nil then
    step = steps_of(spec)[status.currentStep + 1]
  end
  local revision = integer_text(status.canaryRevision or "?")
  if type(step) == "table" and type(step.pause) == "table" and step.pause.duration == nil then
    return "waiting for promote (spec.rollout.promote: {revision: " .. revision .. "})"
  end
  if type(step) == "table" and step.analysis ~= nil then
    return "analysis inconclusive (promote or abort revision " .. revision .. ")"
  end
  if type(status.analysis) == "table" and type(status.analysis.samples) == "table" then
    local samples = status.analysis.samples
    local last = samples[#samples]
    if type(last) == "table" and last.verdict == "Inconclusive" then
      return "analysis inconclusive (promote or abort revision " .. revision .. ")"
    end
  end
  return "paused"
end

if type(obj.status) ~= "table" then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe the LLMDeployment"
  return hs
end

local status = obj.status
local spec = obj.spec
local generation = nil
if type(obj.metadata) == "table" then
  generation = obj.metadata.generation
end
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. integer_text(generation) ..
                   " (observed " .. integer_text(status.observedGeneration or 0) .. ")"
  return hs
end

local progressing = find_condition(status, "Progressing")
local degraded = find_condition(status, "Degraded")
local degraded_now = nil
if degraded ~= nil and degraded.status == "True" then
  degraded_now = describe(degraded)
end

if status.phase == "Healthy" then
  hs.status = "Healthy"
  hs.message = position(spec, status)
elseif status.phase == "Progressing" then
  hs.status = "Progressing"
  hs.message = join({position(spec, status), describe(progressing), degraded_now})
elseif status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = join({"Paused: " .. pause_reason(spec, status), position(spec, status)})
elseif status.phase == "Degraded" then
  hs.status = "Degraded"
  hs.message = degraded_now or describe(degraded) or describe(progressing) or "Degraded (no reason reported)"
else
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a phase"
end
return hs
