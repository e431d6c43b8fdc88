// SPDX-License-Identifier: MIT
// Drive a flame graph in headless chromium as a person would, over the DevTools protocol on
// --remote-debugging-pipe (no packages needed): hover, click to zoom, Escape, the Search button with
// its prompt, Ctrl-F. Usage: node cdp-flamegraph.js CHROMIUM PROFILE_DIR SVG
'use strict';
const { spawn } = require('child_process');
const [chromium, profileDir, svg] = process.argv.slice(2);

const chrome = spawn(chromium, [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
	'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions',
	`--user-data-dir=${profileDir}`, '--window-size=1300,400', '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const toChrome = chrome.stdio[3], fromChrome = chrome.stdio[4];
const timer = setTimeout(() => done('timed out'), 60000);

let nextId = 1, buf = '', sessionId;
const pending = new Map(), waiters = [];
fromChrome.on('data', chunk => {
	buf += chunk.toString('utf8');
	let i;
	while ((i = buf.indexOf('\0')) >= 0) {
		const msg = JSON.parse(buf.slice(0, i));
		buf = buf.slice(i + 1);
		if (msg.id && pending.has(msg.id)) {
			const { resolve, reject } = pending.get(msg.id);
			pending.delete(msg.id);
			msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
		} else if (msg.method) {
			for (const w of waiters.splice(0))
				if (w.method === msg.method) w.resolve(msg.params); else waiters.push(w);
		}
	}
});
function send(method, params = {}, session = sessionId) {
	const id = nextId++;
	toChrome.write(JSON.stringify({ id, method, params, ...(session ? { sessionId: session } : {}) }) + '\0');
	return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
const waitFor = method => new Promise(resolve => waiters.push({ method, resolve }));
async function evaluate(expression) {
	const r = await send('Runtime.evaluate', { expression, returnByValue: true });
	if (r.exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
	return r.result.value;
}
const sleep = ms => new Promise(r => setTimeout(r, ms));
async function center(name) {
	const r = await evaluate(`(() => { const b = document.querySelector('g[data-name="${name}"] rect').getBoundingClientRect();
		return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
	return { x: r[0], y: r[1] };
}
async function mouse(type, p) {
	await send('Input.dispatchMouseEvent', { type, x: p.x, y: p.y, button: 'left', clickCount: 1 });
}
async function click(name) {
	const p = await center(name);
	await mouse('mouseMoved', p);
	await mouse('mousePressed', p);
	await mouse('mouseReleased', p);
	await sleep(50);
}
async function key(k, code, vk, modifiers = 0) {
	for (const type of ['keyDown', 'keyUp'])
		await send('Input.dispatchKeyEvent', { type, key: k, code, windowsVirtualKeyCode: vk, modifiers });
	await sleep(50);
}
const width = name => evaluate(`+document.querySelector('g[data-name="${name}"] rect').getAttribute('width')`);
const hidden = name => evaluate(`document.querySelector('g[data-name="${name}"]').classList.contains('hide')`);
const text = id => evaluate(`document.getElementById('${id}').textContent`);
const fill = name => evaluate(`document.querySelector('g[data-name="${name}"] rect').getAttribute('fill')`);

let failures = 0;
function check(what, got, want) {
	const ok = typeof want === 'function' ? want(got) : got === want;
	console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: ${JSON.stringify(got)}${ok ? '' : ` (want ${want})`}`);
	if (!ok) failures++;
}
function done(err) {
	clearTimeout(timer);
	if (err) console.log(`FAIL ${err}`);
	chrome.kill();
	process.exit(err || failures ? 1 : 0);
}

(async () => {
	const { targetId } = await send('Target.createTarget', { url: 'about:blank' }, null);
	({ sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }, null));
	await send('Page.enable');
	await send('Runtime.enable');
	const loaded = waitFor('Page.loadEventFired');
	await send('Page.navigate', { url: `file://${svg}` });
	await loaded;

	// Hover shows the tooltip text at the bottom.
	const p = await center('memcpy');
	await mouse('mouseMoved', p);
	await sleep(50);
	check('hover memcpy shows its details', await text('details'), 'memcpy (50 samples, 50.00%) in libc.so.6');

	// A click on 'run' zooms to it.
	await click('run');
	check('after a click, run spans the width', await width('run'), 1180);
	check('memcpy under run widens to 2/3', Math.round(await width('memcpy')), 787);
	check('parse_config is hidden', await hidden('parse_config'), true);
	check('Reset Zoom is shown', await evaluate(`document.getElementById('unzoom').classList.contains('hide')`), false);

	// Escape zooms out.
	await key('Escape', 'Escape', 27);
	check('after Escape, run is back to 3/4', await width('run'), 885);
	check('parse_config is back', await hidden('parse_config'), false);

	// The Search button asks for a regular expression, highlights matches and shows their share.
	let dialog = waitFor('Page.javascriptDialogOpening');
	await click('parse_config'); // zoom first: the share is then of the zoomed frame
	const s = await evaluate(`(() => { const b = document.getElementById('search').getBoundingClientRect();
		return [b.x + b.width / 2, b.y + b.height / 2]; })()`);
	const clickSearch = (async () => { await mouse('mousePressed', { x: s[0], y: s[1] }); await mouse('mouseReleased', { x: s[0], y: s[1] }); })();
	const d = await dialog;
	check('the Search button opens a prompt', d.type, 'prompt');
	await send('Page.handleJavaScriptDialog', { accept: true, promptText: 'libc' });
	await clickSearch;
	await sleep(50);
	check('search within the zoomed parse_config', await text('matched'), 'Matched: 33.33%');
	check('the unnamed libc frame is highlighted', await fill('[libc.so.6+0x9abc]'), 'rgb(230,0,230)');

	// Escape resets both; Ctrl-F searches again over the whole graph.
	await key('Escape', 'Escape', 27);
	check('Escape clears the search', (await text('matched')).trim(), '');
	dialog = waitFor('Page.javascriptDialogOpening');
	const ctrlF = key('f', 'KeyF', 70, 2);
	await dialog;
	await send('Page.handleJavaScriptDialog', { accept: true, promptText: '^(memcpy|jitted_loop)$' });
	await ctrlF;
	await sleep(50);
	check('Ctrl-F search over the whole graph', await text('matched'), 'Matched: 56.00%');
	check('memcpy highlighted', await fill('memcpy'), 'rgb(230,0,230)');
	check('run not highlighted', await fill('run'), f => f !== 'rgb(230,0,230)');
	done();
})().catch(e => done(e.stack || String(e)));
