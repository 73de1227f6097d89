/**
 * The Lua scripts of the room directory and the fenced state store. Each runs
 * atomically in Redis, so "compare the home's owner and epoch, then act" can
 * never interleave with another node's acquire.
 *
 * A home lease's value is "<node>|<epoch>". The epoch counter only grows: a
 * node that held the room at epoch 4 and woke up after another took it at 5
 * finds its renewals and writes refused.
 */
import { createHash } from 'node:crypto';

export interface LuaScript {
  source: string;
  sha: string;
}

function lua(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Assign the room's home unless it has a live one.
 * KEYS: home, epoch, candidate's rooms set. ARGV: candidate node, lease ms, room id.
 * Returns { owner, epoch, assigned (1 when this call made it) }.
 */
export const ASSIGN_HOME = lua(`
local current = redis.call('GET', KEYS[1])
if current then
  local sep = string.find(current, '|', 1, true)
  return { string.sub(current, 1, sep - 1), tonumber(string.sub(current, sep + 1)), 0 }
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. epoch, 'PX', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[3])
return { ARGV[1], epoch, 1 }
`);

/**
 * Renew a home lease held at a given epoch.
 * KEYS: home, epoch, owner's rooms set. ARGV: owner node, epoch, lease ms, room id.
 * Returns { result, epoch }: 1 renewed; 2 re-taken (the lease had expired,
 * e.g. during a Redis outage, and nobody took the room since: the epoch
 * counter is still ours or Redis lost it); 3 renewed at a newer epoch (the
 * room was assigned to this same node again meanwhile: adopt that epoch);
 * 0 lost (another owner or a newer epoch). `epoch` is the one to hold from now.
 */
export const RENEW_HOME = lua(`
local mine = ARGV[1] .. '|' .. ARGV[2]
local current = redis.call('GET', KEYS[1])
if current == mine then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return { 1, tonumber(ARGV[2]) }
end
if current then
  local sep = string.find(current, '|', 1, true)
  local newer = sep and tonumber(string.sub(current, sep + 1))
  if sep and string.sub(current, 1, sep - 1) == ARGV[1] and newer and newer > tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    redis.call('SADD', KEYS[3], ARGV[4])
    return { 3, newer }
  end
  redis.call('SREM', KEYS[3], ARGV[4])
  return { 0, tonumber(ARGV[2]) }
end
local epoch = tonumber(redis.call('GET', KEYS[2]) or '0')
if epoch > tonumber(ARGV[2]) then
  redis.call('SREM', KEYS[3], ARGV[4])
  return { 0, tonumber(ARGV[2]) }
end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
redis.call('SADD', KEYS[3], ARGV[4])
return { 2, tonumber(ARGV[2]) }
`);

/**
 * Give a home up, if still held at that epoch.
 * KEYS: home, owner's rooms set. ARGV: owner node, epoch, room id. Returns 1 released, 0 not ours.
 */
export const RELEASE_HOME = lua(`
redis.call('SREM', KEYS[2], ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] .. '|' .. ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`);

/**
 * One write to a room's durable state, applied only if the writer holds the
 * home lease at that epoch.
 * KEYS: home, target. ARGV: owner node, epoch, operation, operands...
 * Operations: sadd member | srem member | hset field value | hdel field |
 * hincrby field n | rpush value maxlen.
 * Returns -1 when the fence refused the write, else the operation's reply.
 */
export const FENCED_WRITE = lua(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. '|' .. ARGV[2] then
  return -1
end
local op = ARGV[3]
if op == 'sadd' then return redis.call('SADD', KEYS[2], ARGV[4]) end
if op == 'srem' then return redis.call('SREM', KEYS[2], ARGV[4]) end
if op == 'hset' then return redis.call('HSET', KEYS[2], ARGV[4], ARGV[5]) end
if op == 'hdel' then return redis.call('HDEL', KEYS[2], ARGV[4]) end
if op == 'hincrby' then return redis.call('HINCRBY', KEYS[2], ARGV[4], ARGV[5]) end
if op == 'rpush' then
  local n = redis.call('RPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
  return n
end
return redis.error_reply('unknown fenced operation ' .. op)
`);
