// One chart: a uPlot line chart of daily values (x: the UTC day) inside a <figure> whose text
// alternative is a summary sentence and, on request, a table of the very points the chart draws.
// The canvas itself is hidden from assistive technology: the figure's text says the same.
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";

export interface Line {
  label: string;
  color: string;
  values: (number | null)[];
}

const exact = new Intl.NumberFormat(undefined);
const DAY = 86_400;
// Ticks a whole number of days apart (never hours: a point is a day), labelled as UTC days.
const DAY_STEPS = [1, 2, 3, 7, 14, 28, 56, 91, 182, 364].map((n) => n * DAY);
const dayLabel = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

/** Axis labels: exact below 100,000, else compact with as many digits as keep them distinct. */
function tickLabels(ticks: number[]): string[] {
  if (ticks.every((t) => Math.abs(t) < 100_000)) return ticks.map((t) => exact.format(t));
  for (const digits of [0, 1, 2, 3]) {
    const format = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: digits });
    const labels = ticks.map((t) => format.format(t));
    if (new Set(labels).size === labels.length) return labels;
  }
  return ticks.map((t) => exact.format(t));
}

export function formatExact(n: number | null | undefined): string {
  return n === null || n === undefined ? "–" : exact.format(n);
}

function seconds(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) / 1000;
}

function summary(dates: string[], line: Line): string {
  const known = line.values
    .map((value, i) => ({ value, date: dates[i] }))
    .filter((p): p is { value: number; date: string } => p.value !== null && p.date !== undefined);
  const first = known[0];
  const last = known[known.length - 1];
  if (!first || !last) return `${line.label}: no data in this range.`;
  if (first === last) return `${line.label}: ${formatExact(first.value)} on ${first.date}.`;
  const values = known.map((p) => p.value);
  return (
    `${line.label}: ${formatExact(first.value)} on ${first.date}, ${formatExact(last.value)} on ${last.date} ` +
    `(lowest ${formatExact(Math.min(...values))}, highest ${formatExact(Math.max(...values))}, ${known.length} days).`
  );
}

function Plot({ dates, lines, height }: { dates: string[]; lines: Line[]; height: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const data: uPlot.AlignedData = [dates.map(seconds), ...lines.map((l) => l.values)];
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
        axes: [
          {
            stroke: "#545761",
            grid: { stroke: "#e4e5e9" },
            ticks: { stroke: "#d5d7dd" },
            incrs: DAY_STEPS,
            space: 60,
            values: (_u, ticks) => ticks.map((t) => dayLabel.format(new Date(t * 1000))),
          },
          {
            stroke: "#545761",
            size: 64,
            grid: { stroke: "#e4e5e9" },
            ticks: { stroke: "#d5d7dd" },
            values: (_u, ticks) => tickLabels(ticks),
          },
        ],
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, points: { size: 6 } }))],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [dates, lines, height]);
  return <div class="chart-plot" ref={box} aria-hidden="true" />;
}

export function Chart({ id, title, dates, lines, height = 200 }: {
  id: string;
  title: string;
  dates: string[];
  lines: Line[];
  height?: number;
}) {
  const [table, setTable] = useState(false);
  const tableId = `${id}-table`;
  return (
    <figure class="card chart" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {lines.map((line) => (
        <p key={line.label} class="chart-summary">
          {lines.length > 1 && <span class="swatch" style={{ background: line.color }} aria-hidden="true" />}
          {summary(dates, line)}
        </p>
      ))}
      <Plot dates={dates} lines={lines} height={height} />
      <button
        type="button"
        class="button-quiet"
        aria-expanded={table}
        aria-controls={tableId}
        onClick={() => setTable((shown) => !shown)}
      >
        {table ? "Hide the table" : "Show the data as a table"}
      </button>
      <div id={tableId} class="table-wrap" hidden={!table}>
        {table && (
          <table>
            <caption>{title}, one row per day (UTC)</caption>
            <thead>
              <tr>
                <th scope="col">Date</th>
                {lines.map((line) => (
                  <th key={line.label} scope="col">
                    {line.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {dates.map((date, i) => (
                <tr key={date}>
                  <th scope="row">
                    <time dateTime={date}>{date}</time>
                  </th>
                  {lines.map((line) => (
                    <td key={line.label}>{formatExact(line.values[i])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </figure>
  );
}
