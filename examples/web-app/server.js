// A small web app for examples/web-app.ps1: an HTML page and a JSON API for a to-do list kept in memory.
// Node's standard library only. Listens on 0.0.0.0 (inside the sandbox) on $PORT, 3000 by default.
const http = require('http');
const os = require('os');

const port = Number(process.env.PORT || 3000);
const todos = [];

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
const sendJson = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));

function readJson(req) {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.on('data', chunk => { raw += chunk; });
    req.on('end', () => {
      try { resolve(JSON.parse(raw || '{}')); } catch (error) { reject(error); }
    });
  });
}

const routes = {
  'GET /': (req, res) => send(res, 200, 'text/html; charset=utf-8',
    '<!DOCTYPE html>\n<html><head><title>Sandbox web app</title></head>\n<body>\n' +
    '<h1>Web app in a sandbox</h1>\n' +
    `<p>Node ${process.version} in container ${os.hostname()}; ${todos.length} to-do item(s).</p>\n` +
    '</body></html>\n'),
  'GET /api/health': (req, res) => sendJson(res, 200, { status: 'ok', node: process.version, uptimeSeconds: Math.round(process.uptime()) }),
  'GET /api/todos': (req, res) => sendJson(res, 200, todos),
  'POST /api/todos': async (req, res) => {
    let body;
    try { body = await readJson(req); } catch (error) { return sendJson(res, 400, { error: `not JSON: ${error.message}` }); }
    if (typeof body.title !== 'string' || body.title.trim() === '') return sendJson(res, 400, { error: 'title is required' });
    const todo = { id: todos.length + 1, title: body.title.trim(), done: false };
    todos.push(todo);
    sendJson(res, 201, todo);
  },
};

http.createServer((req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, 'http://localhost').pathname}`];
  res.on('finish', () => console.error(`web-app: ${req.method} ${req.url} ${res.statusCode}`));
  if (route) return route(req, res);
  sendJson(res, 404, { error: `no route ${req.method} ${req.url}` });
}).listen(port, '0.0.0.0', () => console.error(`web-app: listening on 0.0.0.0:${port}`));
