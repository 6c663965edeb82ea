-- Argo CD health check for llmops.dev/LLMDeployment (resource.customizations.health).
-- Argo CD runs this with the live object in `obj` and reads the returned table.
-- It reads the status the operator (reconcilers/src/rollout.cpp) writes: status.phase and
-- the Available, Progressing and Degraded conditions.
--   no status, or status.observedGeneration < metadata.generation -> Progressing
--     (waiting for the operator);
--   phase Healthy -> Healthy (Progressing False RolloutCompleted);
--   phase Progressing -> Progressing (Progressing True RolloutInProgress or Scaling);
--   phase Paused -> Suspended, naming why from the Progressing condition (status Unknown):
--     PausedAtStep: waiting for promote; AnalysisInconclusive: analysis inconclusive;
--     RolloutPaused: spec.rollout.paused; another reason: that reason and its message;
--   phase Degraded -> Degraded with the Degraded condition's reason and message;
--   no phase yet -> Progressing.
-- Outside Healthy, an Available condition that is False (ReplicasNotReady) is appended.
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
    if type(condition) == "table" and condition.type == condition_type then
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

-- Where the canary stands, e.g. "canary revision 4 at currentStep 1 of 5, weight 10%";
-- nil when no canary runs.
local function canary_position(spec, status)
  if status.canaryRevision == nil then
    return nil
  end
  local text = "canary revision " .. integer_text(status.canaryRevision)
  if status.currentStep ~= nil then
    text = text .. " at currentStep " .. integer_text(status.currentStep) .. " of " ..
               integer_text(#steps_of(spec))
  end
  return text .. ", weight " .. integer_text(status.canaryWeight or 0) .. "%"
end

-- Why the rollout is held, from the reason of the Progressing condition.
local function pause_reason(status, progressing)
  local reason = nil
  if progressing ~= nil then
    reason = progressing.reason
  end
  local revision = integer_text(status.canaryRevision or "?")
  if reason == "PausedAtStep" then
    return "waiting for promote (spec.rollout.promote: {revision: " .. revision .. "})"
  end
  if reason == "AnalysisInconclusive" then
    return "analysis inconclusive (promote or abort revision " .. revision .. ")"
  end
  if reason == "RolloutPaused" then
    return "spec.rollout.paused is true"
  end
  return describe(progressing) or "no reason reported"
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

local available = find_condition(status, "Available")
local progressing = find_condition(status, "Progressing")
local degraded = find_condition(status, "Degraded")

-- The stable revision lacks ready pods: said once, unless the other part already says it.
local function with_unavailable(parts)
  local text = join(parts)
  if available ~= nil and available.status == "False" then
    local message = available.message or ""
    if message == "" or string.find(text, message, 1, true) == nil then
      text = join({text, describe(available)})
    end
  end
  return text
end

if status.phase == "Healthy" then
  hs.status = "Healthy"
  local parts = {}
  if progressing ~= nil then
    table.insert(parts, progressing.message)
  end
  if available ~= nil then
    table.insert(parts, available.message)
  end
  hs.message = join(parts)
  if hs.message == "" then
    hs.message = "Healthy"
  end
elseif status.phase == "Progressing" then
  hs.status = "Progressing"
  hs.message = with_unavailable({describe(progressing) or canary_position(spec, status) or "Progressing"})
elseif status.phase == "Paused" then
  hs.status = "Suspended"
  hs.message = with_unavailable({"Paused: " .. pause_reason(status, progressing), canary_position(spec, status)})
elseif status.phase == "Degraded" then
  hs.status = "Degraded"
  local why = nil
  if degraded ~= nil and degraded.status == "True" then
    why = describe(degraded)
  end
  hs.message = with_unavailable({why or describe(progressing) or "Degraded (no reason reported)"})
else
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report a phase"
end
return hs
