// SPDX-License-Identifier: AGPL-3.0-or-later
// Drives ComfyUI's page in chromium as a new user would, for tests/test_template_browser.py.
//
//   node use_templates.mjs PLAN.json RESULT.json
//
// PLAN: {url, chromium, viewport: [w, h], screenshots, phase: "open" | "run", run_timeout_s, steps, workflows:
// [{name, photos: {title: path}, partial_output}]}. For each workflow: open the template browser, note every card's thumbnail, click the
// card, record the missing-models dialog (phase "open") or close nothing and record the layout, pick the photos
// through each Load Image's "choose file to upload" button, type the plan's steps into every steps widget, press
// Run (or queue only one output node), wait for
// the run to end, record every dialog and toast. The Python test judges RESULT; this script only observes.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [planPath, resultPath] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planPath, 'utf8'));
const PACK = 'ComfyUI-FaceAnon';
const RUN_TIMEOUT_MS = plan.run_timeout_s * 1000;

const browser = await chromium.launch({ executablePath: plan.chromium, args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: plan.viewport[0], height: plan.viewport[1] } });
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(String(error)));

async function shot(name) {
  if (plan.screenshots) await page.screenshot({ path: path.join(plan.screenshots, `${plan.phase}-${name}.png`) });
}

async function openPage() {
  await page.goto(plan.url, { waitUntil: 'networkidle' });
  await page.waitForFunction(() => window.app?.graph && window.app.extensionManager?.command, null, { timeout: 120000 });
  await page.evaluate(() => {
    window.__faceanonEvents = [];
    for (const type of ['execution_start', 'execution_success', 'execution_error', 'execution_interrupted']) {
      window.app.api.addEventListener(type, (event) => window.__faceanonEvents.push({ type, detail: event.detail }));
    }
  });
}

// Visible dialogs and toasts: title and text.
async function messages() {
  return page.evaluate(() => {
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const pick = (selector) => [...document.querySelectorAll(selector)].filter(visible).map((el) => el.innerText.trim());
    return { dialogs: pick('[role=dialog]'), toasts: pick('.p-toast-message') };
  });
}

async function closeDialogs() {
  for (let i = 0; i < 5; i++) {
    const close = page.locator('[role=dialog] button[aria-label=Close], [role=dialog] .p-dialog-close-button').first();
    if (!(await close.count())) return;
    await close.click();
    await page.waitForTimeout(300);
  }
}

async function openTemplateBrowser() {
  const browserShown = page.getByTestId('template-workflows-content');
  if (!(await browserShown.isVisible())) {  // a new user's first visit opens it by itself
    await page.getByRole('button', { name: 'Templates' }).first().click();
  }
  await page.getByText(PACK, { exact: true }).first().click();
  await page.waitForTimeout(1000);
}

// Every card of the pack's category, in the order shown: title and its thumbnail once scrolled into view (the
// browser loads thumbnails lazily).
async function cards() {
  const ids = await page.evaluate(() => [...document.querySelectorAll('[data-testid^="template-workflow-"]')]
    .map((card) => card.getAttribute('data-testid')));
  const found = [];
  for (const id of ids) {
    const card = page.getByTestId(id);
    await card.scrollIntoViewIfNeeded();
    await page.waitForFunction((testid) => {
      const img = document.querySelector(`[data-testid="${testid}"] img`);
      return img && img.complete && img.naturalWidth > 0;
    }, id, { timeout: 10000 }).catch(() => {});
    found.push(await card.evaluate((el) => ({
      testid: el.getAttribute('data-testid'),
      text: el.innerText,
      thumbnails: [...el.querySelectorAll('img')].map((img) => ({ alt: img.alt, width: img.naturalWidth, complete: img.complete })),
    })));
  }
  await page.getByTestId(ids[0]).scrollIntoViewIfNeeded();
  return found;
}

// The card titles in the order the browser shows them with a sort picked from its sort menu.
async function sortedTitles(sortName) {
  await page.getByText(/^(Newest|Default|VRAM Usage \(Low to High\)|Model Size \(Low to High\)|A → Z)$/).first().click();
  await page.getByText(sortName, { exact: true }).first().click();
  await page.waitForTimeout(800);
  return page.evaluate(() => [...document.querySelectorAll('[data-testid^="template-workflow-"]')]
    .map((card) => card.getAttribute('data-testid').replace('template-workflow-', '')));
}

// Screen boxes of the nodes (title bar included) and of what the page draws over the canvas.
async function layout() {
  return page.evaluate(() => {
    const canvas = window.app.canvas;
    const { offset, scale } = canvas.ds;
    const origin = canvas.canvas.getBoundingClientRect();
    const nodes = window.app.graph.nodes.map((node) => {
      const [x, y, w, h] = node.boundingRect;
      return {
        id: node.id, type: node.type, title: node.title,
        box: [origin.x + (x + offset[0]) * scale, origin.y + (y + offset[1]) * scale,
          origin.x + (x + w + offset[0]) * scale, origin.y + (y + h + offset[1]) * scale],
      };
    });
    // What the page draws over the canvas at points where ComfyUI puts its bars and panels: the outermost of the
    // elements above the canvas there.
    const probes = { sidebar: [20, 400], tabs: [innerWidth / 2, 10], breadcrumb: [120, 62], runbar: [innerWidth - 150, 62],
      minimap: [innerWidth - 120, innerHeight - 140], zoom: [innerWidth - 120, innerHeight - 25] };
    const overlays = {};
    for (const [name, [px, py]] of Object.entries(probes)) {
      const stack = document.elementsFromPoint(px, py);
      const above = stack.slice(0, stack.indexOf(canvas.canvas));
      if (above.length) {
        const r = above[above.length - 1].getBoundingClientRect();
        overlays[name] = [r.left, r.top, r.right, r.bottom];
      }
    }
    return { scale, offset: [...offset], viewport: [innerWidth, innerHeight], nodes, overlays };
  });
}

// The screen point of a node's widget (LiteGraph draws widgets on the canvas).
async function widgetPoint(nodeId, widgetName) {
  return page.evaluate(([id, name]) => {
    const canvas = window.app.canvas;
    const node = window.app.graph.getNodeById(id);
    const widget = node.widgets.find((w) => w.name === name);
    const { offset, scale } = canvas.ds;
    const origin = canvas.canvas.getBoundingClientRect();
    const x = node.pos[0] + node.size[0] / 2;
    const y = node.pos[1] + (widget.y ?? widget.last_y) + 10;
    return [origin.x + (x + offset[0]) * scale, origin.y + (y + offset[1]) * scale];
  }, [nodeId, widgetName]);
}

async function pickPhotos(photos) {
  const loaders = await page.evaluate(() => window.app.graph.nodes.filter((n) => n.type === 'LoadImage')
    .map((n) => ({ id: n.id, title: n.title, upload: n.widgets.find((w) => w.type === 'button' || /upload/i.test(w.name))?.name })));
  const picked = [];
  for (const loader of loaders) {
    const file = photos[loader.title] ?? photos['*'];
    let chooser = null;
    for (let attempt = 0; attempt < 3 && !chooser; attempt++) {  // a click can land while the canvas is busy
      await page.mouse.click(plan.viewport[0] / 2, plan.viewport[1] - 60);  // empty canvas: nothing selected
      await page.waitForTimeout(300);
      const [x, y] = await widgetPoint(loader.id, loader.upload);
      await page.mouse.move(x, y);
      [chooser] = await Promise.all([
        page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => null), page.mouse.click(x, y, { delay: 80 }),
      ]);
    }
    if (!chooser) throw new Error(`no file chooser from ${loader.title}'s upload button`);
    await chooser.setFiles(file);
    const name = path.basename(file);
    await page.waitForFunction(([id, expected]) => window.app.graph.getNodeById(id).widgets[0].value === expected,
      [loader.id, name], { timeout: 30000 });
    picked.push({ title: loader.title, file: name });
  }
  await page.waitForTimeout(800);  // the previews
  return picked;
}

// What a user types into the steps widgets (the plan's small value keeps a CPU run short).
async function setSteps(steps) {
  await page.evaluate((value) => {
    for (const node of window.app.graph.nodes) {
      for (const widget of node.widgets ?? []) {
        if (widget.name === 'steps') { widget.value = value; widget.callback?.(value); }
      }
    }
    window.app.graph.setDirtyCanvas(true, true);
  }, steps);
}

async function run(partialOutput) {
  const before = await page.evaluate(() => window.__faceanonEvents.length);
  if (partialOutput) {  // as a user does: select the output node, then "Queue selected output nodes"
    await page.evaluate((title) => {
      const node = window.app.graph.nodes.find((n) => n.title === title);
      window.app.canvas.selectNodes([node]);
    }, partialOutput);
    await page.evaluate(() => window.app.extensionManager.command.execute('Comfy.QueueSelectedOutputNodes'));
  } else {
    await page.getByTestId('queue-button').click();
  }
  const started = Date.now();
  while (Date.now() - started < RUN_TIMEOUT_MS) {
    const ended = await page.evaluate((from) => window.__faceanonEvents.slice(from)
      .find((e) => ['execution_success', 'execution_error', 'execution_interrupted'].includes(e.type)), before);
    if (ended) return { event: ended.type, detail: ended.detail, seconds: (Date.now() - started) / 1000 };
    const shown = await messages();
    if (shown.dialogs.length && (Date.now() - started) > 3000) {  // e.g. a validation error: nothing runs
      return { event: 'dialog', seconds: (Date.now() - started) / 1000 };
    }
    await page.waitForTimeout(500);
  }
  return { event: 'timeout', seconds: RUN_TIMEOUT_MS / 1000 };
}

const result = { workflows: [], cards: null, console_errors: consoleErrors };
try {
  await openPage();
  for (const workflow of plan.workflows) {
    const record = { name: workflow.name };
    result.workflows.push(record);
    try {
      await openTemplateBrowser();
      if (result.cards === null) {
        result.cards = await cards();
        await shot('template-browser');
        result.alphabetical = await sortedTitles('A → Z');
        await shot('template-browser-alphabetical');
      }
      await page.getByText(workflow.name, { exact: true }).first().click();
      await page.waitForFunction((name) => document.title.includes(name) || window.app.graph.nodes.length > 0, workflow.name);
      await page.waitForTimeout(2500);
      record.opened = await messages();
      await shot(`${workflow.name}-opened`);
      if (plan.phase === 'open') {
        await closeDialogs();
        continue;
      }
      record.layout = await layout();
      record.photos = await pickPhotos(workflow.photos);
      if (plan.steps) await setSteps(plan.steps);
      record.run = await run(workflow.partial_output);
      await page.waitForTimeout(1500);
      record.after_run = await messages();
      await shot(`${workflow.name}-after-run`);
      await closeDialogs();
    } catch (error) {
      record.failure = String(error.message || error).split('\n').slice(0, 3).join('\n');
      await shot(`${workflow.name}-failure`).catch(() => {});
      await closeDialogs().catch(() => {});
    }
  }
} finally {
  fs.writeFileSync(resultPath, JSON.stringify(result, null, 1));
  await browser.close();
}
