/**
 * The one stylesheet of the web pages, served at `/+static/wheelhouse-{hash}.css` (immutable). System
 * fonts only (the index often runs without internet), a readable measure, colours with at least
 * WCAG AA contrast in light and dark schemes, tables that scroll sideways on a phone.
 */
import { createHash } from 'node:crypto';

export const STYLESHEET = `
:root {
  --bg: #fbfbfa; --fg: #1d2125; --muted: #586069; --line: #d8dde3; --panel: #ffffff;
  --accent: #0b5cad; --accent-bg: #e8f1fb; --ok: #116329; --ok-bg: #dcf5e3; --warn: #7a4a00; --warn-bg: #fff1cc;
  --bad: #a40e26; --bad-bg: #ffe3e6; --code-bg: #f1f3f5;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15181b; --fg: #e6e8ea; --muted: #a3acb5; --line: #343a40; --panel: #1c2024;
    --accent: #7ab7ff; --accent-bg: #1d2d40; --ok: #7ee2a0; --ok-bg: #153222; --warn: #ffd27a; --warn-bg: #3a2d10;
    --bad: #ff9aa8; --bad-bg: #42161d; --code-bg: #23282d;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Liberation Sans", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
code, pre, kbd, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9em; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: 1rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

header.site { background: var(--panel); border-bottom: 1px solid var(--line); }
header.site .bar { max-width: 72rem; margin: 0 auto; padding: .6rem 1rem; display: flex; flex-wrap: wrap; gap: .6rem 1.2rem; align-items: center; }
header.site .brand { font-weight: 700; font-size: 1.15rem; color: var(--fg); text-decoration: none; display: flex; align-items: center; gap: .45rem; }
header.site .brand svg { width: 1.5rem; height: 1.5rem; }
header.site nav { display: flex; gap: 1rem; font-size: .95rem; }
form.search { display: flex; flex: 1 1 16rem; max-width: 30rem; margin-left: auto; }
form.search input {
  flex: 1; min-width: 0; font: inherit; padding: .4rem .6rem; border: 1px solid var(--muted); border-right: 0;
  border-radius: 6px 0 0 6px; background: var(--bg); color: var(--fg);
}
form.search button {
  font: inherit; padding: .4rem .9rem; border: 1px solid var(--accent); background: var(--accent); color: var(--panel);
  border-radius: 0 6px 6px 0; cursor: pointer; font-weight: 600;
}
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
nav.crumbs ol { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; padding: 0; margin: .2rem 0 .8rem; font-size: .95rem; color: var(--muted); }
nav.crumbs li + li::before { content: "/"; margin-right: .25rem; color: var(--muted); }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .2rem 0 .4rem; overflow-wrap: anywhere; }
h1 .version { color: var(--muted); font-weight: 500; }
h2 { font-size: 1.25rem; margin: 2rem 0 .6rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p.lead { font-size: 1.1rem; color: var(--muted); margin: 0 0 1rem; max-width: 48rem; }
.muted { color: var(--muted); }
.badge { display: inline-block; font-size: .78rem; font-weight: 600; padding: .05rem .5rem; border-radius: 999px; border: 1px solid var(--line); background: var(--panel); color: var(--muted); vertical-align: middle; white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok); border-color: transparent; }
.badge.warn { background: var(--warn-bg); color: var(--warn); border-color: transparent; }
.badge.bad { background: var(--bad-bg); color: var(--bad); border-color: transparent; }
.badge.info { background: var(--accent-bg); color: var(--accent); border-color: transparent; }

.layout { display: grid; grid-template-columns: minmax(0, 1fr) 18rem; gap: 2rem; }
.layout aside { font-size: .95rem; }
@media (max-width: 52rem) { .layout { grid-template-columns: minmax(0, 1fr); } }
aside section, .panel { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .8rem 1rem; margin-bottom: 1rem; }
aside h2 { font-size: 1rem; margin: 0 0 .5rem; border: 0; padding: 0; }
.panel > h2:first-child { margin-top: 0; }
aside code, p code, li code { overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .25rem .9rem; margin: 0; }
dl.meta dt { color: var(--muted); }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { margin: .15rem 0; overflow-wrap: anywhere; }

.table-wrap > table { min-width: 38rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; background: var(--panel); }
table { border-collapse: collapse; width: 100%; font-size: .95rem; }
th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child > td { border-bottom: 0; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; background: var(--bg); }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
.hash { font-size: .8rem; overflow-wrap: anywhere; color: var(--muted); }
.filename { font-weight: 600; overflow-wrap: anywhere; }

ul.cards { list-style: none; padding: 0; margin: 0; display: grid; gap: .6rem; }
ul.cards li { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .7rem 1rem; }
ul.cards .title { font-weight: 600; font-size: 1.05rem; overflow-wrap: anywhere; }
ul.cards p { margin: .2rem 0 0; color: var(--muted); }

.markup { max-width: 52rem; overflow-wrap: break-word; }
.markup img { max-width: 100%; height: auto; }
.markup pre, pre.markup, pre.output { background: var(--code-bg); padding: .8rem 1rem; border-radius: 6px; overflow-x: auto; line-height: 1.45; }
pre.markup.text { white-space: pre-wrap; font-size: .9rem; }
.markup code { background: var(--code-bg); padding: .1em .3em; border-radius: 4px; }
.markup pre code { background: none; padding: 0; }
.markup table { width: auto; border: 1px solid var(--line); }
.markup blockquote { margin: 0; padding: 0 1rem; border-left: 4px solid var(--line); color: var(--muted); }
.markup h1 { font-size: 1.5rem; } .markup h2 { font-size: 1.25rem; }

details.result { margin: .3rem 0; }
details.result summary { cursor: pointer; }
details.result > :not(summary) { margin-left: 1.2rem; }
pre.output { max-height: 24rem; font-size: .82rem; white-space: pre-wrap; }
.banner { border-radius: 8px; padding: .9rem 1.1rem; margin: .5rem 0 1.5rem; font-weight: 600; font-size: 1.1rem; border: 1px solid transparent; }
.banner.ok { background: var(--ok-bg); color: var(--ok); }
.banner.warn { background: var(--warn-bg); color: var(--warn); }
.banner.bad { background: var(--bad-bg); color: var(--bad); }
.banner ul { margin: .4rem 0 0; font-weight: 400; font-size: 1rem; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
footer.site { max-width: 72rem; margin: 0 auto; padding: 1rem; color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
`;

/** Content hash of the stylesheet (part of its URL, so it can be cached for ever). */
const STYLESHEET_HASH = createHash('sha256').update(STYLESHEET).digest('hex').slice(0, 12);

/** Path of the stylesheet below the server root. */
export const STYLESHEET_PATH = `/+static/wheelhouse-${STYLESHEET_HASH}.css`;
