#!/usr/bin/env node
// Writes milvus-proto as .proto files, one per protobuf package, from the protobufjs JSON
// descriptor that the pinned Node SDK ships. The SDK is the client our users run, so its
// descriptor is the wire contract we must match field for field. Never commit the output.
//
// usage: gen-proto.js OUT_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');

const outDir = process.argv[2];
if (!outDir) { console.error('usage: gen-proto.js OUT_DIR'); process.exit(2); }
const sdkJson = require('@zilliz/milvus2-sdk-node/dist/milvus/proto-json/milvus.js').default;
const root = protobuf.Root.fromJSON(sdkJson);
root.resolveAll();

const GOOGLE = '.google.protobuf';
const isPackage = (ns) => ns.nestedArray.some((o) => o instanceof protobuf.Type ||
  o instanceof protobuf.Enum || o instanceof protobuf.Service || (o instanceof protobuf.Field && o.extend));
const packageOf = (fullName) => {           // the package namespace that declares a type
  let o = root.lookup(fullName);
  while (o && !(o instanceof protobuf.Namespace && !(o instanceof protobuf.Type) && isPackage(o))) o = o.parent;
  return o;
};
const fileOf = (pkg) => pkg.fullName === GOOGLE ? 'google/protobuf/descriptor.proto'
  : pkg.fullName.slice(1).split('.').pop() + '.proto';

// Only wire-relevant and simple options survive; custom (parenthesised) ones are metadata
// for Milvus's own RBAC tooling and do not change the encoding.
function fieldOptions(f) {
  const kept = [];
  if (f.options) {
    if (f.options.deprecated) kept.push('deprecated = true');
    if (f.options.packed !== undefined) kept.push(`packed = ${f.options.packed}`);
  }
  return kept.length ? ` [${kept.join(', ')}]` : '';
}

function typeName(f, deps, self) {
  if (!f.resolvedType) return f.type;                   // scalar
  const pkg = packageOf(f.resolvedType.fullName);
  if (pkg !== self) deps.add(fileOf(pkg));
  return f.resolvedType.fullName;                        // fully qualified: never ambiguous
}

function emitEnum(e, ind) {
  const lines = [`${ind}enum ${e.name} {`];
  const values = Object.entries(e.values);
  if (new Set(values.map(([, v]) => v)).size !== values.length) lines.push(`${ind}  option allow_alias = true;`);
  for (const [k, v] of values) {
    const dep = e.valuesOptions && e.valuesOptions[k] && e.valuesOptions[k].deprecated ? ' [deprecated = true]' : '';
    lines.push(`${ind}  ${k} = ${v}${dep};`);
  }
  lines.push(`${ind}}`);
  return lines;
}

function emitField(f, ind, deps, self) {
  if (f.map) {
    const valueType = f.resolvedType ? typeName(f, deps, self) : f.type;
    return `${ind}map<${f.keyType}, ${valueType}> ${f.name} = ${f.id}${fieldOptions(f)};`;
  }
  const label = f.repeated ? 'repeated ' : (f.options && f.options.proto3_optional ? 'optional ' : '');
  return `${ind}${label}${typeName(f, deps, self)} ${f.name} = ${f.id}${fieldOptions(f)};`;
}

function emitType(t, ind, deps, self) {
  const lines = [`${ind}message ${t.name} {`];
  const inner = ind + '  ';
  const inOneof = new Set();
  for (const o of t.oneofsArray) {
    const real = o.fieldsArray.filter((f) => !(f.options && f.options.proto3_optional));
    if (!real.length) continue;                          // synthetic oneof of a proto3 optional
    lines.push(`${inner}oneof ${o.name} {`);
    for (const f of real) { inOneof.add(f); lines.push(emitField(f, inner + '  ', deps, self)); }
    lines.push(`${inner}}`);
  }
  for (const f of t.fieldsArray) if (!inOneof.has(f)) lines.push(emitField(f, inner, deps, self));
  if (t.reserved) {
    for (const r of t.reserved) {
      lines.push(typeof r === 'string' ? `${inner}reserved "${r}";`
        : `${inner}reserved ${r[0] === r[1] ? r[0] : `${r[0]} to ${r[1]}`};`);
    }
  }
  for (const n of t.nestedArray) lines.push(...emitNested(n, inner, deps, self));
  lines.push(`${ind}}`);
  return lines;
}

function emitService(s, deps, self) {
  const lines = [`service ${s.name} {`];
  for (const m of s.methodsArray) {
    for (const t of [m.resolvedRequestType, m.resolvedResponseType]) {
      const pkg = packageOf(t.fullName);
      if (pkg !== self) deps.add(fileOf(pkg));
    }
    const req = (m.requestStream ? 'stream ' : '') + m.resolvedRequestType.fullName;
    const resp = (m.responseStream ? 'stream ' : '') + m.resolvedResponseType.fullName;
    lines.push(`  rpc ${m.name}(${req}) returns (${resp}) {}`);
  }
  lines.push('}');
  return lines;
}

function emitNested(o, ind, deps, self) {
  if (o instanceof protobuf.Type) return emitType(o, ind, deps, self);
  if (o instanceof protobuf.Enum) return emitEnum(o, ind);
  if (o instanceof protobuf.Service) return emitService(o, deps, self);
  if (o instanceof protobuf.Field && o.extend) {
    const ext = o.extend.startsWith('google.protobuf.') ? '.' + o.extend : o.extend;
    deps.add('google/protobuf/descriptor.proto');
    return [`extend ${ext} {`, emitField(o, '  ', deps, self), '}'];
  }
  return [];
}

function collectPackages(ns, out) {
  for (const o of ns.nestedArray) {
    if (!(o instanceof protobuf.Namespace) || o instanceof protobuf.Type || o instanceof protobuf.Service) continue;
    if (o.fullName === GOOGLE) continue;                 // protoc ships descriptor.proto itself
    if (isPackage(o)) out.push(o);
    collectPackages(o, out);
  }
  return out;
}

fs.mkdirSync(outDir, { recursive: true });
for (const pkg of collectPackages(root, [])) {
  const deps = new Set();
  const body = [];
  for (const o of pkg.nestedArray) body.push(...emitNested(o, '', deps, pkg), '');
  const header = ['// Generated by tools/gen-proto.js from the Node SDK descriptor. Do not edit.',
    'syntax = "proto3";', `package ${pkg.fullName.slice(1)};`, ''];
  for (const d of [...deps].sort()) header.push(`import "${d}";`);
  const file = path.join(outDir, fileOf(pkg));
  const text = [...header, '', ...body].join('\n');
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text) fs.writeFileSync(file, text);
  console.log(`gen-proto: ${file}`);
}
