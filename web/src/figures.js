// 统计: open cases by class and by grid, overdue work, time to close, alerts per day: as charts.

import { get } from './api.js';
import { clear, debounce, h, loadScript, message } from './dom.js';
import { className, label, locale, t } from './i18n.js';
import { feed } from './live.js';

const CHART = '/ui/vendor/chart.js/chart.umd.min.js';
const STATUS_COLOURS = {
  new: '#ff9f1a', confirmed: '#3fa9f5', dispatched: '#7c5cff', resolved: '#00d1b2', reopened: '#ff3b3b',
  closed: '#5b6b7d', dismissed: '#3a4554',
};
const BAR = '#3fa9f5';
const countsUp = () => ({
  plugins: { legend: { display: false } }, scales: { y: { ticks: { precision: 0 }, beginAtZero: true } },
});
const LINE = '#ff9f1a';

function tile(id, title, value, note) {
  return h('div', { class: 'kpi', id },
    h('div', { class: 'kpi-title' }, title),
    h('div', { class: 'kpi-value' }, value),
    note ? h('div', { class: 'kpi-note' }, note) : null);
}

function panel(id, title) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const el = h('div', { class: 'chart-panel' }, h('h2', {}, title), h('div', { class: 'chart-box' }, canvas));
  return { el, canvas };
}

function configs(stats) {
  const open = stats.open_by_class;
  const grids = stats.open_by_grid;
  const statuses = Object.keys(stats.by_status);
  const days = stats.alerts_per_day;
  const dayLabel = (day) => new Date(`${day}T00:00:00`)
    .toLocaleDateString(locale(), { month: 'numeric', day: 'numeric' });
  return {
    byClass: {
      type: 'bar',
      data: {
        labels: open.map((c) => className(c)),
        datasets: [{ label: t('figures.count'), data: open.map((c) => c.count), backgroundColor: BAR }],
      },
      options: { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { ticks: { precision: 0 } } } },
    },
    byGrid: {
      type: 'bar',
      data: {
        labels: grids.map((g) => g.grid || t('figures.no_grid')),
        datasets: [{ label: t('figures.count'), data: grids.map((g) => g.count), backgroundColor: '#7c5cff' }],
      },
      options: countsUp(),
    },
    perDay: {
      type: 'line',
      data: {
        labels: days.map((d) => dayLabel(d.day)),
        datasets: [{
          label: t('figures.count'), data: days.map((d) => d.count), borderColor: LINE,
          backgroundColor: 'rgba(255,159,26,0.25)', fill: true, tension: 0.25, pointRadius: 2,
        }],
      },
      options: countsUp(),
    },
    byStatus: {
      type: 'doughnut',
      data: {
        labels: statuses.map((s) => label('status', s)),
        datasets: [{
          data: statuses.map((s) => stats.by_status[s]),
          backgroundColor: statuses.map((s) => STATUS_COLOURS[s] || '#999'),
          borderColor: '#121821',
        }],
      },
      options: { plugins: { legend: { position: 'right' } } },
    },
  };
}

export function mount(root) {
  const kpis = h('div', { class: 'kpis' });
  const grid = h('div', { class: 'charts' });
  root.append(h('div', { class: 'view-head' }, h('h1', {}, t('figures.title'))), kpis, grid);
  const charts = {};
  let stopped = false;

  const draw = (stats) => {
    const open = stats.open_by_class.reduce((sum, c) => sum + c.count, 0);
    const median = stats.median_hours_to_close;
    clear(kpis).append(
      tile('kpi-open', t('figures.open'), String(open)),
      tile('kpi-overdue', t('figures.overdue'), String(stats.overdue)),
      tile('kpi-median', t('figures.median'), median === null ? t('case.none') : t('figures.hours', { n: median }),
        t('figures.closed', { days: stats.days }) + `: ${stats.closed_last_days}`));
    const wanted = configs(stats);
    const Chart = window.Chart;
    if (!Object.keys(charts).length) {
      Chart.defaults.color = '#c9d4e0';
      Chart.defaults.borderColor = 'rgba(201,212,224,0.15)';
      Chart.defaults.font.size = 14;
      Chart.defaults.maintainAspectRatio = false;
      Chart.defaults.animation = false; // a wall screen redraws often; figures should just be there
      const titles = {
        byClass: t('figures.by_class'), byGrid: t('figures.by_grid'),
        perDay: t('figures.per_day', { days: stats.days }), byStatus: t('figures.by_status'),
      };
      for (const [name, config] of Object.entries(wanted)) {
        const { el, canvas } = panel(`chart-${name}`, titles[name]);
        grid.append(el);
        charts[name] = new Chart(canvas, config);
      }
      return;
    }
    for (const [name, config] of Object.entries(wanted)) {
      charts[name].data = config.data;
      charts[name].update('none');
    }
  };

  const load = async () => {
    try {
      const [, stats] = await Promise.all([loadScript(CHART), get('/api/stats', { days: 30 })]);
      if (!stopped) draw(stats);
    } catch (error) {
      if (!stopped) clear(kpis).append(message(t('error.load', { msg: error.message }), 'error'));
    }
  };
  const refresh = debounce(load, 3000);
  const off = feed.on(() => refresh());
  load();
  return () => {
    stopped = true;
    off();
    refresh.cancel();
    for (const chart of Object.values(charts)) chart.destroy();
  };
}
