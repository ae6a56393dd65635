-- Drives `cgoguard lsp` through Neovim's own LSP client (0.7+), headless.
-- The steps come from the JSON file in $LSP_STEPS; what each step saw is
-- written as JSON to $LSP_OUT. Run as: nvim --headless --clean -n -i NONE -c "luafile lsp-client.lua"
local steps = vim.fn.json_decode(table.concat(vim.fn.readfile(vim.env.LSP_STEPS), '\n'))
local out = {}
local published = {} -- uri -> { version, diagnostics, at }
local logs = {}
local last_edit_at = vim.loop.hrtime()

vim.lsp.set_log_level('ERROR')

local client_id
local function start()
  client_id = vim.lsp.start_client({
    name = 'cgoguard',
    cmd = vim.fn.json_decode(vim.env.LSP_CMD),
    root_dir = vim.env.LSP_ROOT,
    -- Every change goes out at once (Neovim 0.7 waits 150 ms by default): the server has its own short quiet time.
    flags = { debounce_text_changes = 0 },
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        published[result.uri] = { version = result.version, diagnostics = result.diagnostics, at = vim.loop.hrtime() }
        vim.lsp.diagnostic.on_publish_diagnostics(err, result, ctx, config)
      end,
      ['window/logMessage'] = function(_, result)
        table.insert(logs, result.message)
      end,
      ['window/showMessage'] = function(_, result)
        table.insert(logs, 'showMessage: ' .. result.message)
      end,
    },
  })
  if not client_id then error('the client did not start') end
end

local function buf_of(file)
  local b = vim.fn.bufnr(file)
  if b < 0 then error('no buffer for ' .. file) end
  return b
end

local function uri_of(file)
  return vim.uri_from_fname(vim.fn.fnamemodify(file, ':p'))
end

--- Diagnostics published for the buffer's current version, once they arrive.
local function current(file, timeout, pred)
  local b = buf_of(file)
  local uri = uri_of(file)
  local got
  local ok = vim.wait(timeout or 20000, function()
    local p = published[uri]
    if p and p.version == vim.lsp.util.buf_versions[b] and (not pred or pred(p.diagnostics)) then
      got = p
      return true
    end
    return false
  end, 5)
  if not ok then error('no diagnostics for the current version of ' .. file .. ' (have version ' .. tostring(published[uri] and published[uri].version) .. ', buffer at ' .. tostring(vim.lsp.util.buf_versions[b]) .. ')') end
  return got
end

local function has_code(code)
  return function(diags)
    for _, d in ipairs(diags) do if d.code == code then return true end end
    return false
  end
end

local run = {}

function run.open(s)
  vim.cmd('edit ' .. vim.fn.fnameescape(s.file))
  vim.lsp.buf_attach_client(0, client_id)
  last_edit_at = vim.loop.hrtime()
  return {}
end

local function has_message(text)
  return function(diags)
    for _, d in ipairs(diags) do if d.message:find(text, 1, true) then return true end end
    return false
  end
end

function run.diagnostics(s)
  local p = current(s.file, s.timeout, s.message and has_message(s.message) or s.code and has_code(s.code) or nil)
  return { version = p.version, ms = (p.at - last_edit_at) / 1e6, diagnostics = p.diagnostics }
end

function run.no_diagnostic(s)
  local p = current(s.file, s.timeout, function(diags) return not has_code(s.code)(diags) end)
  return { version = p.version, diagnostics = p.diagnostics }
end

function run.set_lines(s)
  local b = buf_of(s.file)
  vim.api.nvim_buf_set_lines(b, s.from, s.to, false, s.lines)
  last_edit_at = vim.loop.hrtime()
  return { version = vim.lsp.util.buf_versions[b] }
end

function run.sleep(s)
  vim.wait(s.ms, function() return false end, 5)
  return {}
end

function run.code_actions(s)
  local b = buf_of(s.file)
  local p = current(s.file, s.timeout, has_code(s.code))
  local diag
  for _, d in ipairs(p.diagnostics) do if d.code == s.code then diag = d break end end
  local params = { textDocument = { uri = uri_of(s.file) }, range = diag.range, context = { diagnostics = { diag } } }
  local responses = vim.lsp.buf_request_sync(b, 'textDocument/codeAction', params, 10000) or {}
  local actions = {}
  for _, r in pairs(responses) do for _, a in ipairs(r.result or {}) do table.insert(actions, a) end end
  local titles = {}
  local applied
  for _, a in ipairs(actions) do
    table.insert(titles, a.title)
    if s.apply and a.isPreferred and not applied then
      vim.lsp.util.apply_workspace_edit(a.edit, 'utf-16')
      last_edit_at = vim.loop.hrtime()
      applied = a.title
    end
  end
  return { titles = titles, applied = applied, lines = vim.api.nvim_buf_get_lines(b, 0, -1, false) }
end

function run.write(s)
  vim.cmd('buffer ' .. buf_of(s.file))
  vim.cmd('write')
  return {}
end

--- Waits for a log line containing s.contains (its s.nth occurrence, the first by default).
function run.logs(s)
  local found
  vim.wait(s.timeout or 10000, function()
    local seen = 0
    for _, l in ipairs(logs) do
      if l:find(s.contains, 1, true) then
        seen = seen + 1
        if seen >= (s.nth or 1) then found = l return true end
      end
    end
    return false
  end, 5)
  return { found = found, logs = logs }
end

--- Edits one line at a time and waits for the diagnostics of each version: the latencies, in ms.
function run.edits(s)
  local b = buf_of(s.file)
  local latencies = {}
  for i = 1, s.count do
    local line = s.lines[((i - 1) % #s.lines) + 1]
    local text = vim.api.nvim_buf_get_lines(b, line, line + 1, false)[1]
    if i % 3 == 0 then
      vim.api.nvim_buf_set_lines(b, line, line, false, { '' })
    elseif i % 3 == 1 then
      vim.api.nvim_buf_set_lines(b, line, line + 1, false, { text .. ' ' })
    else
      vim.api.nvim_buf_set_lines(b, line, line, false, { '\t// edit ' .. i })
    end
    last_edit_at = vim.loop.hrtime()
    local p = current(s.file, s.timeout)
    table.insert(latencies, (p.at - last_edit_at) / 1e6)
    vim.wait(s.pause or 0, function() return false end, 5)
  end
  return { latencies = latencies }
end

local ok, err = pcall(function()
  start()
  for i, s in ipairs(steps) do
    local r = run[s.op](s)
    r.op = s.op
    out[i] = r
  end
end)
if not ok then table.insert(out, { op = 'error', error = tostring(err), logs = logs }) end
vim.fn.writefile({ vim.fn.json_encode(out) }, vim.env.LSP_OUT)
if client_id then vim.lsp.stop_client(client_id) end
vim.wait(2000, function() return vim.tbl_isempty(vim.lsp.get_active_clients()) end, 20)
vim.cmd(ok and 'qa!' or 'cquit 1')
