// The dashboard in headless Debian chromium, driven by playwright-core; run by
// tests/tests/dashboard.rs, which starts the stack and passes its settings in
// CLAIMTRAIL_BROWSER_TEST. Progress goes to stderr; the last stdout line is a
// JSON summary: {"failed": N, "checks": [...], "screenshots": [...]}.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.env.CLAIMTRAIL_BROWSER_TEST);
const axeSource = fs.readFileSync(new URL('./node_modules/axe-core/axe.min.js', import.meta.url), 'utf8');
const checks = [];
const screenshots = [];
let failed = 0;

function check(name, ok, detail = '') {
  checks.push({ name, ok, detail: ok ? '' : String(detail) });
  if (!ok) failed++;
  console.error(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok ? '' : `: ${detail}`}`);
}

async function audit(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await globalThis.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`axe: no serious or critical violations on ${name}`, bad.length === 0,
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('; '));
}

async function shot(page, name) {
  const file = `${name}.png`;
  await page.screenshot({ path: path.join(cfg.out_dir, file), fullPage: true });
  screenshots.push(file);
}

async function visit(page, url, name, expectedStatus = 200) {
  const response = await page.goto(cfg.url + url);
  check(`${name}: ${url} answers ${expectedStatus}`, response.status() === expectedStatus, `answered ${response.status()}`);
  await audit(page, name);
  await shot(page, name);
  return response;
}

async function signIn(browser, role, { keyboard = false } = {}) {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(cfg.url + '/');
  if (keyboard) {
    for (let i = 0; i < 6; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => document.activeElement?.id === 'api-key')) break;
    }
    check(`${role}: the key field is reached with Tab`, await page.evaluate(() => document.activeElement?.id === 'api-key'));
    await page.keyboard.type(cfg.keys[role]);
    await Promise.all([page.waitForURL(cfg.url + '/'), page.keyboard.press('Enter')]);
  } else {
    await page.fill('#api-key', cfg.keys[role]);
    await Promise.all([page.waitForURL(cfg.url + '/'), page.click('main button[type=submit]')]);
  }
  const heading = await page.textContent('h1');
  check(`${role}: signs in and sees the dashboard`, heading === 'Dashboard', `heading ${heading}`);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'claimtrail_session');
  check(`${role}: the session cookie is HttpOnly and SameSite=Strict`, session && session.httpOnly && session.sameSite === 'Strict', JSON.stringify(session));
  return { context, page };
}

async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return fs.readFileSync(await file.path(), 'utf8');
}

async function proofState(page) {
  await page.waitForFunction(() => ['verified', 'failed', 'unpinned'].includes(document.getElementById('proof-summary')?.dataset.state), null, { timeout: 15000 });
  return page.evaluate(() => ({
    state: document.getElementById('proof-summary').dataset.state,
    summary: document.getElementById('proof-summary').textContent,
    verdicts: Array.from(document.querySelectorAll('tr[data-leaf]')).map((row) => row.dataset.verdict),
  }));
}

const browser = await chromium.launch({ executablePath: cfg.chromium, headless: true, args: ['--no-sandbox'] });
try {
  // Signed out: the sign-in page, a wrong key, a missing CSRF token, a page without a session.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await visit(page, '/', 'signin');
    await page.fill('#api-key', 'ct_0000000000000000_wrong');
    const [answer] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ui/sign-in')), page.click('main button[type=submit]')]);
    check('a wrong key gets 401 and says the key is not known', answer.status() === 401 && (await page.textContent('.message')).includes('not known'), answer.status());
    await audit(page, 'signin-wrong-key');
    const forged = await context.request.post(cfg.url + '/ui/sign-in', { form: { api_key: cfg.keys.auditor } });
    check('a sign-in without the form\'s CSRF token is refused', forged.status() === 403 && (await forged.text()).includes('CSRF'), forged.status());
    const unsigned = await context.request.get(cfg.url + '/ui/ledger');
    check('a page without a session answers 401 with the sign-in form', unsigned.status() === 401 && (await unsigned.text()).includes('not signed in'), unsigned.status());
    const asset = await context.request.get(cfg.url + '/ui/assets/dashboard.css');
    check('assets answer without credentials', asset.status() === 200);
    await context.close();
  }

  // The auditor, by keyboard: ledger explorer, then a claim's proofs checked in the page.
  {
    const { context, page } = await signIn(browser, 'auditor', { keyboard: true });
    await audit(page, 'auditor-home');
    await shot(page, 'auditor-home');
    await visit(page, '/ui/ledger', 'auditor-ledger');
    check('the ledger shows the latest checkpoint\'s log signature', (await page.content()).includes('the log\'s signature'));
    await visit(page, '/ui/ledger/entries?start=0', 'auditor-ledger-entries');
    const entryCells = await page.locator('tbody tr').count();
    check('the ledger entries are listed', entryCells >= 3, entryCells);
    const claimUrl = `/ui/claims/proofs?claim_id=${cfg.claim_id}`;
    await page.goto(cfg.url + claimUrl);
    let state = await proofState(page);
    check('without a pinned key the page asks for one', state.state === 'unpinned', JSON.stringify(state));
    // Pin the key from the keyboard.
    await page.focus('#log-key');
    await page.keyboard.type(cfg.log_key);
    await page.keyboard.press('Enter');
    state = await proofState(page);
    check('every event\'s inclusion proof verifies in the page', state.state === 'verified' && state.verdicts.length >= 3 && state.verdicts.every((v) => v === 'verified'), JSON.stringify(state));
    await page.reload();
    state = await proofState(page);
    check('the pinned key is kept across page loads', state.state === 'verified', JSON.stringify(state));
    await audit(page, 'auditor-proofs');
    await shot(page, 'auditor-proofs');
    const eventsCsv = await download(page, 'a[download]');
    check('the claim\'s events export as CSV', eventsCsv.startsWith('At,Event type,Event id,Status,Ledger index\r\n') && eventsCsv.split('\r\n').length >= 5, eventsCsv.slice(0, 200));

    // A tampered proof (one hash changed on the way) fails.
    await page.route('**/ui/claims/proofs?*', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(/data-proof="([A-Za-z0-9+/])/, (_, first) => `data-proof="${first === 'A' ? 'B' : 'A'}`);
      await route.fulfill({ response, body });
    });
    await page.goto(cfg.url + claimUrl);
    state = await proofState(page);
    check('a tampered proof shows as a failure', state.state === 'failed' && state.verdicts.includes('failed'), JSON.stringify(state));
    await shot(page, 'auditor-proofs-tampered');
    await page.unroute('**/ui/claims/proofs?*');

    // A changed pinned key fails every proof.
    await page.evaluate((key) => localStorage.setItem('claimtrail.pinnedLogKey', key), cfg.other_log_key);
    await page.goto(cfg.url + claimUrl);
    state = await proofState(page);
    check('a changed pinned key shows as a failure', state.state === 'failed' && state.summary.includes('not signed by the pinned key'), JSON.stringify(state));
    await shot(page, 'auditor-proofs-changed-key');

    // A key whose base64 holds '+' (the separator) still parses, and a wrong key id does not.
    let vkey;
    do {
      const publicKey = randomBytes(32);
      const id = createHash('sha256').update(Buffer.concat([Buffer.from('test.log'), Buffer.from([0x0a, 0x01]), publicKey])).digest().subarray(0, 4);
      vkey = `test.log+${id.toString('hex')}+${Buffer.concat([Buffer.from([1]), publicKey]).toString('base64')}`;
    } while (!vkey.split('+').slice(2).join('+').includes('+'));
    const parsed = await page.evaluate(async (key) => {
      const module = await import('/ui/assets/proofs.js');
      let refused = '';
      try { module.parseVerifierKey(key.replace(/\+[0-9a-f]{8}\+/, '+00000000+')); } catch (e) { refused = e.message; }
      return { name: module.parseVerifierKey(key).name, refused };
    }, vkey);
    check('a log key with \'+\' in its base64 parses, one with a wrong key id does not', parsed.name === 'test.log' && parsed.refused.includes('does not match'), JSON.stringify(parsed));

    const finance = await page.goto(cfg.url + '/ui/balances');
    check('a page of another role answers 403', finance.status() === 403, finance.status());
    await context.close();
  }

  // An auditor of another payer cannot reach the claim by URL.
  {
    const { context, page } = await signIn(browser, 'other_auditor');
    const proofs = await page.goto(`${cfg.url}/ui/claims/proofs?claim_id=${cfg.claim_id}`);
    const html = await page.content();
    check('another payer\'s claim is not reachable by URL (proofs)', proofs.status() === 404 && !html.includes('claim-events'), proofs.status());
    const explanation = await page.goto(`${cfg.url}/ui/claims/explanation?claim_id=${cfg.claim_id}`);
    check('another payer\'s claim is not reachable by URL (explanation)', explanation.status() === 404, explanation.status());
    await audit(page, 'other-payer-refused');
    await shot(page, 'other-auditor-refused');
    await context.close();
  }

  // Payer operations: a claim's explanation, policy versions, CSV.
  {
    const { context, page } = await signIn(browser, 'payer');
    await shot(page, 'payer-home');
    await visit(page, `/ui/claims/explanation?claim_id=${cfg.claim_id}`, 'payer-explanation');
    const steps = await page.locator('table:has(caption:text("Steps")) tbody tr').count();
    check('the explanation lists the decision step by step', steps >= 1, steps);
    const csv = await download(page, 'a[download]');
    check('the explanation exports as CSV', csv.startsWith('Line,Procedure,Step,Kind,Rule,Source,Adjustment,Before,After,Detail\r\n') && csv.split('\r\n').length > 2, csv.slice(0, 200));
    await visit(page, '/ui/policy-versions', 'payer-policy-versions');
    const proofs = await page.goto(`${cfg.url}/ui/claims/proofs?claim_id=${cfg.claim_id}`);
    check('a payer key gets 403 on the auditor\'s proofs page', proofs.status() === 403, proofs.status());
    await context.close();
  }

  // Finance: journal balances, filtered, exported; then sign-out from the keyboard.
  {
    const { context, page } = await signIn(browser, 'finance');
    await visit(page, '/ui/balances', 'finance-balances');
    check('the journal balances', (await page.textContent('dl.facts')).includes('yes'));
    const csv = await download(page, 'a[download]');
    check('the balances export as CSV', csv.startsWith('Account,Debit,Credit,Balance (debit − credit)\r\n') && csv.includes('expense:claims:'), csv.slice(0, 200));
    await page.fill('#filter-balances-by-account', 'expense');
    await Promise.all([page.waitForURL(/filter=expense/), page.press('#filter-balances-by-account', 'Enter')]);
    const rows = await page.locator('tbody tr').allTextContents();
    check('the filter runs on the server', rows.length >= 1 && rows.every((row) => row.includes('expense')), JSON.stringify(rows));
    const noCsrf = await page.request.post(cfg.url + '/ui/sign-out', { form: {} });
    check('sign-out without the CSRF token is refused', noCsrf.status() === 403, noCsrf.status());
    await page.focus('header button[type=submit]');
    await Promise.all([page.waitForURL(cfg.url + '/'), page.keyboard.press('Enter')]);
    check('signed out from the keyboard', (await page.textContent('h1')) === 'Sign in');
    const after = await page.goto(cfg.url + '/ui/balances');
    check('after sign-out the pages need a sign-in again', after.status() === 401, after.status());
    await context.close();
  }

  // Finance: a payment run (started twice with one Idempotency-Key: one run), its ACH file, holds, a statement and its exception.
  {
    const { context, page } = await signIn(browser, 'finance');
    await visit(page, `/ui/payment-runs?payer_id=${cfg.payer_id}`, 'finance-payment-runs');
    const form = await page.evaluate(() => Object.fromEntries(new FormData(document.querySelector('form[method=post][action="/ui/payment-runs"]'))));
    await Promise.all([page.waitForURL(/\/ui\/payment-runs\/[0-9a-f-]{36}$/), page.click('form[method=post][action="/ui/payment-runs"] button')]);
    const runUrl = page.url();
    check('a payment run is started from the page and opens on its remittances',
      /\/ui\/payment-runs\/[0-9a-f-]{36}$/.test(runUrl) && (await page.locator('dl.facts').textContent()).includes(cfg.payer_id),
      `${runUrl}: ${(await page.textContent('main')).slice(0, 400)}`);
    const again = await page.request.post(cfg.url + '/ui/payment-runs', { form, maxRedirects: 0 });
    check('the same form sent twice (its Idempotency-Key) answers the same run', again.status() === 303 && runUrl.endsWith(again.headers()['location']), `${again.status()} ${again.headers()['location']} vs ${runUrl}`);
    await audit(page, 'finance-payment-run');
    await shot(page, 'finance-payment-run');
    const remittanceRows = await page.locator('table:has(caption:text("Remittances")) tbody tr').allTextContents();
    check('the run lists its remittance to the provider', remittanceRows.some((row) => row.includes(cfg.provider_npi)), JSON.stringify(remittanceRows));
    if (await page.locator('a[href$="/ach"]').count() > 0) {
      const ach = await download(page, 'a[href$="/ach"]');
      check('the run\'s ACH file downloads as NACHA records (file header first, 94 characters each)', ach.startsWith('101') && ach.split(/\r?\n/).filter((l) => l).every((l) => l.length === 94), ach.slice(0, 200));
    } else {
      check('a run without ACH entries says so', (await page.textContent('main')).includes('sent no ACH entries'));
    }
    await page.goto(`${cfg.url}/ui/payment-runs?payer_id=${cfg.payer_id}`);
    const chart = await page.evaluate(() => {
      const svg = document.querySelector('#paid-per-run svg[role=img]');
      return svg ? { title: svg.querySelector('title')?.textContent, desc: !!svg.querySelector('desc'), table: document.querySelectorAll('#paid-per-run details tbody tr').length } : null;
    });
    check('paid per run is an SVG chart with a title, a description and a table of its numbers', chart && chart.title.startsWith('Paid per payment run') && chart.desc && chart.table >= 1, JSON.stringify(chart));
    const byDay = await page.evaluate(() => document.querySelector('#paid-by-day svg[role=img] title')?.textContent);
    check('paid by day is an SVG chart', (byDay || '').startsWith('Paid by day'), byDay);
    const runsCsv = await download(page, 'a[download][href*="format=csv"]');
    check('the runs export as CSV', runsCsv.startsWith('Run,Run date,Effective date,Remittances,Paid (ACH),Held,Awaiting prenote\r\n') && runsCsv.split('\r\n').length >= 3, runsCsv.slice(0, 200));

    // Holds: place one on the provider, then release it, from the keyboard.
    await visit(page, `/ui/payment-holds?payer_id=${cfg.payer_id}`, 'finance-payment-holds');
    await page.fill('#place-npi', cfg.provider_npi);
    await page.fill('#place-reason', 'Credentialing review');
    await Promise.all([page.waitForURL(/done=held/), page.press('#place-reason', 'Enter')]);
    check('a hold is placed from the page', (await page.textContent('p.done')).includes(`NPI ${cfg.provider_npi} are held`));
    await page.fill('#release-npi', cfg.provider_npi);
    await page.fill('#release-reason', 'Credentialing complete');
    await Promise.all([page.waitForURL(/done=released/), page.click('form:has(#release-npi) button')]);
    check('the hold is released from the page', (await page.textContent('p.done')).includes('released'));
    await audit(page, 'finance-payment-holds-released');

    // Reconciliation: upload a statement with a debit no run expects; resolve the exception it opens.
    await visit(page, `/ui/reconciliation?payer_id=${cfg.payer_id}`, 'finance-reconciliation');
    await page.setInputFiles('#statement-file', { name: 'statement.xml', mimeType: 'application/xml', buffer: Buffer.from(cfg.statement) });
    const [imported] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ui/reconciliation/statements')), page.click('form[enctype="multipart/form-data"] button')]);
    const facts = await page.textContent('dl.facts');
    check('the uploaded statement is imported and reconciled', imported.status() === 201 && (await page.textContent('main')).includes('imported and reconciled'), `${imported.status()} ${facts}`);
    check('its unexpected debit opens an exception', /Exceptions opened\s*1/.test(facts), facts);
    await audit(page, 'finance-reconciliation-import');
    await shot(page, 'finance-reconciliation-import');
    await page.goto(`${cfg.url}/ui/reconciliation?payer_id=${cfg.payer_id}`);
    const byAge = await page.evaluate(() => {
      const svg = document.querySelector('#exceptions-by-age svg[role=img]');
      const rows = Array.from(document.querySelectorAll('#exceptions-by-age details tbody tr')).map((tr) => Array.from(tr.children).map((cell) => cell.textContent));
      return svg ? { title: svg.querySelector('title')?.textContent, bars: svg.querySelectorAll('rect').length, rows } : null;
    });
    const newest = byAge && byAge.rows[0];
    check(
      'open exceptions by age is an SVG chart: the one just opened is 0-2 days old',
      byAge && byAge.title.startsWith('Open exceptions by age') && byAge.bars >= 1 && newest[0] === '0-2 days' && newest.slice(1).some((n) => Number(n) >= 1)
        && byAge.rows.length === 5,
      JSON.stringify(byAge),
    );
    check('each exception shows the day it was opened', /\d{4}-\d{2}-\d{2}/.test(await page.textContent('#exceptions tbody tr')), await page.textContent('#exceptions tbody tr'));
    const open = await page.locator('#exceptions form.row').count();
    check('the exception queue offers to resolve the open exception', open >= 1, open);
    await page.fill('#exceptions form.row input[name=reason]', 'Bank fee booked by hand');
    await Promise.all([page.waitForURL(/done=resolved/), page.click('#exceptions form.row button')]);
    check('the exception is resolved with a reason', (await page.textContent('p.done')).includes('resolved') && (await page.locator('#exceptions form.row').count()) === open - 1);
    await page.goto(`${cfg.url}/ui/reconciliation?payer_id=${cfg.payer_id}&status=all`);
    check('the resolved exception keeps who resolved it and why', (await page.textContent('#exceptions')).includes('Bank fee booked by hand'));
    await audit(page, 'finance-reconciliation-resolved');
    await shot(page, 'finance-reconciliation-resolved');
    await context.close();
  }

  // The pended queue and the claims list, with drill-down to the explanation and claims per day as a chart.
  {
    const { context, page } = await signIn(browser, 'auditor');
    await visit(page, `/ui/pended?payer_id=${cfg.payer_id}`, 'auditor-pended');
    const pendedRows = await page.locator('table:has(caption:text("Pended claims")) tbody tr').allTextContents();
    check('the pended queue lists the pended claim', pendedRows.some((row) => row.includes(cfg.pended_claim_id)) && !pendedRows.some((row) => row.includes(cfg.claim_id)), JSON.stringify(pendedRows));
    const byReason = await page.evaluate(() => {
      const svg = document.querySelector('#pended-by-reason svg[role=img]');
      return svg ? { title: svg.querySelector('title')?.textContent, bars: svg.querySelectorAll('rect').length, rows: Array.from(document.querySelectorAll('#pended-by-reason details tbody th')).map((th) => th.textContent) } : null;
    });
    check('pended by reason is an SVG chart with a table of its numbers', byReason && byReason.title.startsWith('Pended claims of payer') && byReason.bars >= 1 && byReason.rows.includes('code-pended-by-policy'), JSON.stringify(byReason));
    check('an auditor key is offered no review', (await page.locator('a[href*="/ui/pended/review"]').count()) === 0);
    await Promise.all([page.waitForURL(/\/ui\/claims\/explanation\?claim_id=/), page.click(`a:text("${cfg.pended_claim_id}")`)]);
    check('a pended claim drills down to where and why it pended', (await page.textContent('main')).includes('Pended ('), (await page.textContent('main')).slice(0, 300));
    await visit(page, '/ui/claims', 'auditor-claims');
    const claimRows = await page.locator('#claims tbody tr').count();
    check('the claims list shows the claims', claimRows >= 2, claimRows);
    await visit(page, '/ui/claims/per-day', 'auditor-claims-per-day');
    const perDay = await page.evaluate(() => {
      const svg = document.querySelector('#claims-per-day svg[role=img]');
      return svg ? { labelled: svg.getAttribute('aria-labelledby'), bars: svg.querySelectorAll('rect').length, rows: document.querySelectorAll('#claims-per-day details tbody tr').length } : null;
    });
    check('claims per day by outcome is an accessible SVG chart with a table fallback', perDay && perDay.labelled.includes('claims-per-day-desc') && perDay.bars >= 2 && perDay.rows >= 1, JSON.stringify(perDay));
    await context.close();
  }

  // Another payer's key: the demo payer's queue and its pended claim are not reachable by URL.
  {
    const { context, page } = await signIn(browser, 'other_payer');
    const queue = await page.goto(`${cfg.url}/ui/pended?payer_id=${cfg.payer_id}`);
    check('another payer\'s pended queue is not reachable by URL', queue.status() === 403 && !(await page.content()).includes(cfg.pended_claim_id), queue.status());
    await audit(page, 'other-payer-queue-refused');
    const form = await page.goto(`${cfg.url}/ui/pended/review?payer_id=${cfg.payer_id}&claim_id=${cfg.pended_claim_id}`);
    check('another payer\'s pended claim has no review form by URL', form.status() === 403 && (await page.locator('form#review').count()) === 0, form.status());
    const own = await page.goto(`${cfg.url}/ui/pended`);
    const ownRows = await page.locator('table:has(caption:text("Pended claims")) tbody tr').allTextContents();
    check('its own queue (payer 99999) shows none of the demo payer\'s claims', own.status() === 200 && !ownRows.some((row) => row.includes(cfg.pended_claim_id)), `${own.status()} ${JSON.stringify(ownRows)}`);
    const csrf = await page.getAttribute('header input[name=csrf_token]', 'value');
    const forged = await page.request.post(cfg.url + '/ui/pended/review', {
      form: { csrf_token: csrf, payer_id: cfg.payer_id, claim_id: cfg.pended_claim_id, action: 'approve', reason: 'not mine to approve' }, maxRedirects: 0,
    });
    check('another payer\'s key cannot approve the claim by posting the form', forged.status() === 404, forged.status());
    const alerts = await page.goto(`${cfg.url}/ui/fraud-alerts`);
    check('another payer\'s key sees the alerts page of its own payer', alerts.status() === 200, alerts.status());
    await context.close();
  }

  // Payer operations: the pended queue, a claim reviewed from the keyboard (approved with a reason), then gone from the queue.
  {
    const { context, page } = await signIn(browser, 'payer');
    await visit(page, '/ui/pended', 'payer-pended');
    const rows = await page.locator('table:has(caption:text("Pended claims")) tbody tr').allTextContents();
    check('the payer key sees its payer\'s pended claim (submitted by the provider)', rows.some((row) => row.includes(cfg.pended_claim_id)), JSON.stringify(rows));
    const queueCsv = await download(page, 'a[download]');
    check('the pended queue exports as CSV', queueCsv.startsWith('Priority,Claim,Reason,Step,Detail,Charge,Pended on,Age (days)\r\n') && queueCsv.includes(cfg.pended_claim_id), queueCsv.slice(0, 200));
    const noCsrf = await page.request.post(cfg.url + '/ui/pended/review', { form: { payer_id: cfg.payer_id, claim_id: cfg.pended_claim_id, action: 'approve', reason: 'x' } });
    check('a review without the CSRF token is refused', noCsrf.status() === 403, noCsrf.status());
    await Promise.all([page.waitForURL(/\/ui\/pended\/review\?/), page.click(`a:text("${cfg.pended_claim_id}")`)]);
    await audit(page, 'payer-review');
    await shot(page, 'payer-review');
    const lines = await page.locator('#review-lines tbody input').count();
    check('the review form lists the claim\'s lines with an amount each', lines >= 1, lines);
    // A denial without a CARC is refused with the field named, and nothing is sent.
    await page.check('#action-deny');
    await page.fill('#review-reason', 'testing the form');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ui/pended/review') && r.request().method() === 'POST'), page.press('#review-reason', 'Enter')]);
    check('a denial without a CARC is refused, naming the field', refused.status() === 400 && (await page.textContent('main')).includes('carc: a denial names its CARC'), refused.status());
    await page.goBack();
    // Approve from the keyboard: the radio group, the reason, Enter.
    await page.reload();
    await page.focus('#action-approve');
    await page.keyboard.press('Space');
    await page.focus('#review-reason');
    await page.keyboard.type('Invoice for the unlisted drug received; approved at charge');
    await Promise.all([page.waitForURL(/\/ui\/pended\?payer_id=.*done=/), page.keyboard.press('Enter')]);
    const done = await page.textContent('main');
    check('the claim is approved from the queue and has left it', done.includes(`Claim ${cfg.pended_claim_id} is approved and has left the queue`), done.slice(0, 400));
    const after = await page.locator('table:has(caption:text("Pended claims")) tbody tr').allTextContents();
    check('the approved claim is no longer listed', !after.some((row) => row.includes(cfg.pended_claim_id)), JSON.stringify(after));
    await audit(page, 'payer-pended-approved');
    await shot(page, 'payer-pended-approved');
    await page.goto(`${cfg.url}/ui/claims/explanation?claim_id=${cfg.pended_claim_id}`);
    const explained = await page.textContent('main');
    check('the approved claim\'s explanation shows the review step and the reviewer', explained.includes('review-approve') && explained.includes('Invoice for the unlisted drug'), explained.slice(0, 600));
    await visit(page, '/ui/auto-adjudication', 'payer-auto-adjudication');
    const rate = await page.evaluate(() => ({
      chart: document.querySelector('#auto-adjudication svg[role=img] title')?.textContent,
      rows: Array.from(document.querySelectorAll('table:has(caption) tbody tr')).map((tr) => Array.from(tr.cells).map((td) => td.textContent)),
    }));
    const reviewedToday = rate.rows.some((cells) => cells.length === 6 && Number(cells[3]) >= 1 && Number(cells[2]) >= 1 && /%$/.test(cells[5]));
    check('the auto-adjudication rate per day counts the engine\'s decisions and the reviewed claim, as a chart and a table', (rate.chart || '').startsWith('Claims of payer') && reviewedToday, JSON.stringify(rate));
    const rateCsv = await download(page, 'a[download]');
    check('the auto-adjudication rate exports as CSV', rateCsv.startsWith('Day received,Claims,By the engine,By a reviewer,Still pended,Auto-adjudication rate\r\n'), rateCsv.slice(0, 200));
    await context.close();
  }

  // Fraud alerts: a duplicate of the first claim, submitted now (after finance's run), raises an exact-duplicate alert.
  {
    const submitted = await fetch(cfg.url + '/v1/claims', {
      method: 'POST', headers: { authorization: `Bearer ${cfg.keys.provider}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(cfg.duplicate_claim),
    });
    check('the duplicate claim is accepted by intake', submitted.status < 300, `${submitted.status} ${await submitted.text()}`);
    let alert = null;
    for (let i = 0; i < 120 && !alert; i++) {
      const answer = await (await fetch(cfg.url + '/v1/fraud/alerts?pattern=exact_duplicate', { headers: { authorization: `Bearer ${cfg.keys.payer}` } })).json();
      alert = (answer.alerts || []).find((a) => a.claim_ids.includes(cfg.claim_id));
      if (!alert) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    check('the fraud service raises an exact-duplicate alert on the claim', !!alert, 'no alert within 60 s');
    if (alert) {
      const auditor = await signIn(browser, 'auditor');
      await visit(auditor.page, '/ui/fraud-alerts', 'auditor-fraud-alerts');
      const auditorRows = await auditor.page.locator('#alerts tbody tr').allTextContents();
      check('an auditor reads the alert and is offered no action', auditorRows.some((row) => row.includes(alert.alert_id)) && (await auditor.page.locator('#alerts form').count()) === 0, JSON.stringify(auditorRows));
      await auditor.context.close();

      const { context, page } = await signIn(browser, 'payer');
      await visit(page, '/ui/fraud-alerts?status=open', 'payer-fraud-alerts');
      const row = page.locator('#alerts tbody tr', { hasText: alert.alert_id });
      check('the open alert is listed with its pattern and claims', (await row.count()) === 1 && (await row.textContent()).includes('exact_duplicate') && (await row.textContent()).includes(cfg.claim_id), await page.locator('#alerts').textContent());
      const alertsCsv = await download(page, 'a[download]');
      check('the alerts export as CSV', alertsCsv.startsWith('Alert,Status,Pattern,Score (‰),Payer,Provider NPI,Date,Claims,Reason,Evidence,Closed with\r\n') && alertsCsv.includes(alert.alert_id), alertsCsv.slice(0, 300));
      await Promise.all([page.waitForURL(/done=acknowledged/), row.locator('form.acknowledge button').click()]);
      check('the alert is acknowledged from the page', (await page.textContent('p.done')).includes(`Alert ${alert.alert_id} is acknowledged`));
      // Close it from the keyboard: the outcome, the reason, Enter.
      const closing = page.locator('#alerts tbody tr', { hasText: alert.alert_id });
      await closing.locator('select[name=outcome]').selectOption('false_positive');
      await closing.locator('input[name=reason]').focus();
      await page.keyboard.type('Resubmitted by the clearinghouse; the duplicate was denied');
      await Promise.all([page.waitForURL(/done=false_positive/), page.keyboard.press('Enter')]);
      check('the alert is closed as a false positive with a reason', (await page.textContent('p.done')).includes('closed as a false positive'));
      await page.goto(`${cfg.url}/ui/fraud-alerts`);
      const closed = await page.locator('#alerts tbody tr', { hasText: alert.alert_id }).textContent();
      check('the closed alert keeps its outcome and reason, and offers no more action', closed.includes('false positive') && closed.includes('Resubmitted by the clearinghouse') && (await page.locator('#alerts tbody tr', { hasText: alert.alert_id }).locator('form').count()) === 0, closed);
      await audit(page, 'payer-fraud-alerts-closed');
      await shot(page, 'payer-fraud-alerts-closed');
      await context.close();
    }
  }

  // A provider key has no pages; an admin sees them all.
  {
    const { context, page } = await signIn(browser, 'provider');
    const ledger = await page.goto(cfg.url + '/ui/ledger');
    check('a provider key gets 403 on the dashboard\'s pages', ledger.status() === 403, ledger.status());
    await context.close();
    const admin = await signIn(browser, 'admin');
    await audit(admin.page, 'admin-home');
    await shot(admin.page, 'admin-home');
    const links = await admin.page.locator('header nav a').count();
    check('an admin sees every page', links === 13, links);
    await admin.context.close();
  }
} catch (e) {
  check('the run finished', false, e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify({ failed, checks, screenshots }));
process.exit(failed === 0 ? 0 : 1);
