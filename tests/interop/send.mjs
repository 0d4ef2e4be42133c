// send.mjs: sends telemetry to an OTLP endpoint through the official
// OpenTelemetry JS SDK exporters, as an application instrumented with them
// would, and fails when an export is not acknowledged.
//
//   node send.mjs PROTOCOL SIGNAL URL N [gzip]
//
// PROTOCOL  grpc (OTLP/gRPC), proto (OTLP/HTTP protobuf), http (OTLP/HTTP JSON)
// SIGNAL    traces: N spans; metrics: N data points; logs: N log records
// URL       http://HOST:PORT of the receiver (the HTTP exporters append
//           /v1/traces, /v1/metrics or /v1/logs)
// N         items, made by the SDK (spans by a tracer, points by five kinds of
//           instruments, records by a logger) and handed to the exporter in
//           batches of at most 100, one export after the other
// gzip      ask the exporter to compress
//
// Exit status: 0 when every export callback reported SUCCESS; 1 on the first
// failure (its error on stderr); 2 for bad arguments; 3 when the whole run
// took more than 30 s. On success, prints "SIGNAL N exported in B batches".
import { createRequire } from 'node:module';

import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';

const require = createRequire(import.meta.url);
const EXPORTERS = {
    grpc: {
        traces: ['@opentelemetry/exporter-trace-otlp-grpc', 'OTLPTraceExporter'],
        metrics: ['@opentelemetry/exporter-metrics-otlp-grpc', 'OTLPMetricExporter'],
        logs: ['@opentelemetry/exporter-logs-otlp-grpc', 'OTLPLogExporter'],
    },
    proto: {
        traces: ['@opentelemetry/exporter-trace-otlp-proto', 'OTLPTraceExporter'],
        metrics: ['@opentelemetry/exporter-metrics-otlp-proto', 'OTLPMetricExporter'],
        logs: ['@opentelemetry/exporter-logs-otlp-proto', 'OTLPLogExporter'],
    },
    http: {
        traces: ['@opentelemetry/exporter-trace-otlp-http', 'OTLPTraceExporter'],
        metrics: ['@opentelemetry/exporter-metrics-otlp-http', 'OTLPMetricExporter'],
        logs: ['@opentelemetry/exporter-logs-otlp-http', 'OTLPLogExporter'],
    },
};
const PATHS = { traces: '/v1/traces', metrics: '/v1/metrics', logs: '/v1/logs' };
const BATCH = 100;

function usage(msg) {
    process.stderr.write(`send.mjs: ${msg}\nusage: node send.mjs grpc|proto|http traces|metrics|logs URL N [gzip]\n`);
    process.exit(2);
}

const [protocol, signal, url, nArg, compression] = process.argv.slice(2);
if (!EXPORTERS[protocol]) usage(`unknown protocol '${protocol}'`);
if (!PATHS[signal]) usage(`unknown signal '${signal}'`);
if (!/^https?:\/\/[^/]+$/.test(url || '')) usage(`URL must be http://HOST:PORT, got '${url}'`);
const n = Number(nArg);
if (!Number.isInteger(n) || n < 1) usage(`N must be a positive integer, got '${nArg}'`);
if (compression !== undefined && compression !== 'gzip') usage(`unknown option '${compression}'`);

// Nothing may wait forever: the exporters' own timeout is 10 s per export.
setTimeout(() => {
    process.stderr.write('send.mjs: still running after 30 s\n');
    process.exit(3);
}, 30000).unref();

const resource = resourceFromAttributes({
    'service.name': 'otelgate-interop',
    'service.version': '1.0.0',
    'telemetry.sdk.language': 'nodejs',
    'interop.protocol': protocol,
});

// ---- items, made by the SDK itself ----

async function makeSpans(count) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
    const tracer = provider.getTracer('otelgate-interop', '1.0.0');
    let parent = null;
    for (let i = 0; i < count; i++) {
        // every 5th span starts a trace; the others are its children
        const ctx = i % 5 === 0 || parent === null ? context.active() : trace.setSpan(context.active(), parent);
        const span = tracer.startSpan(`op-${i}`, {
            kind: i % 5 === 0 ? SpanKind.SERVER : SpanKind.INTERNAL,
            attributes: {
                'http.request.method': 'POST',
                'http.response.status_code': 200 + (i % 3),
                'item.index': i,
                'item.ratio': i / 7,
                'item.even': i % 2 === 0,
                'item.tags': ['a', 'b', `t${i}`],
                'item.big': 2 ** 53 - 1 - i,    // needs the 64-bit string form in JSON
            },
        }, ctx);
        if (i % 4 === 0) span.addEvent('cache.miss', { 'cache.key': `k${i}` });
        if (i % 9 === 0 && parent !== null) span.addLink({ context: parent.spanContext(), attributes: { 'link.i': i } });
        if (i % 11 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom "quoted" \u00e9' });
        span.end();
        if (i % 5 === 0) parent = span;
    }
    await provider.forceFlush();
    return memory.getFinishedSpans();
}

class CollectingReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
}

async function makeMetrics(count) {
    const reader = new CollectingReader();
    const provider = new MeterProvider({
        resource,
        readers: [reader],
        views: [{ instrumentName: 'interop.exp_histogram', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    const meter = provider.getMeter('otelgate-interop', '1.0.0');
    const counter = meter.createCounter('interop.counter', { unit: '{item}' });
    const updown = meter.createUpDownCounter('interop.updown');
    const histogram = meter.createHistogram('interop.histogram', { unit: 'ms' });
    const exphist = meter.createHistogram('interop.exp_histogram', { unit: 's' });
    const gauge = meter.createGauge('interop.gauge');
    // one data point per distinct attribute set of an instrument: exactly count points
    for (let i = 0; i < count; i++) {
        const attrs = { 'point.index': i };
        switch (i % 5) {
        case 0: counter.add(i + 1, attrs); break;
        case 1: updown.add(i % 2 ? -i : i, attrs); break;
        case 2: histogram.record(i * 1.5, attrs); histogram.record(i * 3, attrs); break;
        case 3: exphist.record(0.001 * (i + 1), attrs); exphist.record(i + 1, attrs); break;
        default: gauge.record(i / 3, attrs); break;
        }
    }
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw new Error(`metric collection: ${errors.join('; ')}`);
    let points = 0;
    for (const sm of resourceMetrics.scopeMetrics)
        for (const m of sm.metrics)
            points += m.dataPoints.length;
    if (points !== count) throw new Error(`the SDK made ${points} data points, not ${count}`);
    return resourceMetrics;
}

// Splits one ResourceMetrics into batches of at most BATCH data points.
function metricBatches(rm) {
    const batches = [];
    let cur = null, size = 0;
    for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
            for (let o = 0; o < m.dataPoints.length;) {
                if (cur === null || size === BATCH) {
                    cur = { resource: rm.resource, scopeMetrics: [{ scope: sm.scope, metrics: [] }] };
                    batches.push(cur);
                    size = 0;
                }
                const take = Math.min(BATCH - size, m.dataPoints.length - o);
                let scope = cur.scopeMetrics[cur.scopeMetrics.length - 1];
                if (scope.scope !== sm.scope) {
                    scope = { scope: sm.scope, metrics: [] };
                    cur.scopeMetrics.push(scope);
                }
                scope.metrics.push({ ...m, dataPoints: m.dataPoints.slice(o, o + take) });
                size += take;
                o += take;
            }
        }
    }
    return batches;
}

async function makeLogs(count) {
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    const logger = provider.getLogger('otelgate-interop', '1.0.0');
    const severities = [SeverityNumber.DEBUG, SeverityNumber.INFO, SeverityNumber.WARN, SeverityNumber.ERROR];
    const tracer = new BasicTracerProvider({ resource }).getTracer('otelgate-interop');
    for (let i = 0; i < count; i++) {
        const sev = severities[i % severities.length];
        const record = {
            severityNumber: sev,
            severityText: ['DEBUG', 'INFO', 'WARN', 'ERROR'][i % 4],
            body: i % 3 === 0 ? { message: `structured ${i}`, n: i } : `log line ${i}\nsecond line "q"`,
            attributes: { 'record.index': i, 'user.email': 'alice@example.com' },
        };
        if (i % 2 === 0) {
            const span = tracer.startSpan(`log-span-${i}`);
            record.context = trace.setSpan(context.active(), span);
            span.end();
        }
        logger.emit(record);
    }
    await provider.forceFlush();
    return memory.getFinishedLogRecords();
}

// ---- export ----

function exportOnce(exporter, items) {
    return new Promise((resolve, reject) => {
        exporter.export(items, (result) => {
            if (result.code === 0) resolve();
            else reject(result.error ?? new Error(`export result code ${result.code}`));
        });
    });
}

function chunks(list) {
    const out = [];
    for (let o = 0; o < list.length; o += BATCH) out.push(list.slice(o, o + BATCH));
    return out;
}

async function main() {
    const [module, name] = EXPORTERS[protocol][signal];
    const Exporter = require(module)[name];
    const config = {
        url: protocol === 'grpc' ? url : url + PATHS[signal],
        timeoutMillis: 10000,
    };
    if (compression === 'gzip') config.compression = 'gzip';
    const exporter = new Exporter(config);

    let batches;
    if (signal === 'traces') {
        const spans = await makeSpans(n);
        if (spans.length !== n) throw new Error(`the SDK made ${spans.length} spans, not ${n}`);
        batches = chunks(spans);
    } else if (signal === 'metrics') {
        batches = metricBatches(await makeMetrics(n));
    } else {
        const records = await makeLogs(n);
        if (records.length !== n) throw new Error(`the SDK made ${records.length} log records, not ${n}`);
        batches = chunks(records);
    }
    try {
        for (const b of batches) await exportOnce(exporter, b);
    } finally {
        await exporter.shutdown();
    }
    process.stdout.write(`${signal} ${n} exported in ${batches.length} batches\n`);
}

main().then(() => process.exit(0), (err) => {
    process.stderr.write(`send.mjs: ${protocol} ${signal}: export failed: ${err?.stack ?? err}\n`);
    process.exit(1);
});
