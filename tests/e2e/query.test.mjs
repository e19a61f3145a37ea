// Query: every kind of filter expression Milvus documents, output_fields, limit/offset, the
// query iterator, partitions, and malformed filters (a clear error, the server unharmed).
// Every filter is checked against the same predicate evaluated here on the inserted rows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, rawCall, uniqueName,
} from './milvus.mjs';
import {
  countRows, insertRows, loadCollection, queryIds, queryRows, range, sortIds, vectorFor,
} from './data.mjs';

const COLORS = ['red', 'green', 'blue'];

// Row `id` of the main data set; the same function gives the expected answers.
function makeRow(id) {
  const row = {
    id,
    vector: vectorFor(id, 2),
    age: id % 50,
    score: id / 4,
    name: `u-${id}`,
    flag: id % 3 === 0,
    meta: {
      group: id % 5,
      nested: { level: id % 3 },
      tags: [`t${id % 4}`, `t${(id + 1) % 4}`],
      label: id % 2 ? 'odd' : 'even',
    },
    arr: [id, id + 1, id + 2].slice(0, id % 4),
    opt: id % 10 === 0 ? null : id,
  };
  if (id % 2 === 0) row.color = COLORS[id % 3];
  return row;
}

const ROWS = range(0, 100).map(makeRow);
const PARTITION_B = 'part_b'; // holds ids 50..99

function idsWhere(predicate) {
  return ROWS.filter(predicate).map((row) => row.id);
}

// [filter, the rows it must select]
const FILTERS = [
  // comparisons
  ['age > 40', (r) => r.age > 40],
  ['age >= 40', (r) => r.age >= 40],
  ['age < 3', (r) => r.age < 3],
  ['age <= 3', (r) => r.age <= 3],
  ['age == 7', (r) => r.age === 7],
  ['age != 7', (r) => r.age !== 7],
  ['score >= 24.5', (r) => r.score >= 24.5],
  ['score < 1.0', (r) => r.score < 1],
  ['5 > age', (r) => r.age < 5],
  // chained ranges
  ['10 < id <= 20', (r) => r.id > 10 && r.id <= 20],
  ['10 <= id < 20', (r) => r.id >= 10 && r.id < 20],
  ['30 > id >= 25', (r) => r.id < 30 && r.id >= 25],
  ['2.5 < score < 4', (r) => r.score > 2.5 && r.score < 4],
  // in / not in
  ['id in [1, 5, 99, 1000]', (r) => [1, 5, 99].includes(r.id)],
  ['id not in [0, 1, 2, 3]', (r) => r.id > 3],
  ['name in ["u-3", "u-40"]', (r) => ['u-3', 'u-40'].includes(r.name)],
  // boolean logic
  ['age > 40 and flag == true', (r) => r.age > 40 && r.flag],
  ['age < 2 or age > 48', (r) => r.age < 2 || r.age > 48],
  ['not (age > 10)', (r) => !(r.age > 10)],
  ['age > 10 && id < 30', (r) => r.age > 10 && r.id < 30],
  ['age < 2 || id == 99', (r) => r.age < 2 || r.id === 99],
  ['!(id < 90)', (r) => r.id >= 90],
  ['(age < 5 or age > 45) and not (flag == true)', (r) => (r.age < 5 || r.age > 45) && !r.flag],
  ['age > 40 AND flag == true OR id == 0', (r) => (r.age > 40 && r.flag) || r.id === 0],
  // arithmetic
  ['id % 7 == 0', (r) => r.id % 7 === 0],
  ['age + 5 == 10', (r) => r.age + 5 === 10],
  ['id * 2 == 84', (r) => r.id * 2 === 84],
  ['id - 1 == 9', (r) => r.id - 1 === 9],
  ['id % 10 != 0', (r) => r.id % 10 !== 0],
  ['id % 7 > 4', (r) => r.id % 7 > 4],
  ['score * 4 == 40', (r) => r.score * 4 === 40],
  // like
  ['name like "u-1%"', (r) => r.name.startsWith('u-1')],
  ['name like "%5%"', (r) => r.name.includes('5')],
  ['name like "%9"', (r) => r.name.endsWith('9')],
  ['name like "u-42"', (r) => r.name === 'u-42'],
  ['meta["label"] like "od%"', (r) => r.meta.label === 'odd'],
  // strings and booleans
  ["name == 'u-7'", (r) => r.name === 'u-7'],
  ['name > "u-9"', (r) => r.name > 'u-9'],
  ['flag == true', (r) => r.flag],
  ['flag == false', (r) => !r.flag],
  ['flag != true', (r) => !r.flag],
  // JSON paths
  ['meta["group"] == 2', (r) => r.meta.group === 2],
  ['meta["group"] > 2', (r) => r.meta.group > 2],
  ['meta["group"] in [1, 3]', (r) => [1, 3].includes(r.meta.group)],
  ['meta["nested"]["level"] == 1', (r) => r.meta.nested.level === 1],
  ['meta["label"] == "odd"', (r) => r.meta.label === 'odd'],
  ['meta["tags"][0] == "t1"', (r) => r.meta.tags[0] === 't1'],
  ['meta["missing"] == 1', () => false],
  // json_contains*
  ['json_contains(meta["tags"], "t2")', (r) => r.meta.tags.includes('t2')],
  ['json_contains_all(meta["tags"], ["t1", "t2"])', (r) => ['t1', 't2'].every((t) => r.meta.tags.includes(t))],
  ['json_contains_any(meta["tags"], ["t0", "t3"])', (r) => ['t0', 't3'].some((t) => r.meta.tags.includes(t))],
  // array_*
  ['array_contains(arr, 5)', (r) => r.arr.includes(5)],
  ['array_contains_all(arr, [5, 6])', (r) => r.arr.includes(5) && r.arr.includes(6)],
  ['array_contains_any(arr, [0, 1])', (r) => r.arr.includes(0) || r.arr.includes(1)],
  ['array_length(arr) == 2', (r) => r.arr.length === 2],
  ['array_length(arr) == 0', (r) => r.arr.length === 0],
  ['arr[0] == 10', (r) => r.arr[0] === 10],
  // null handling
  ['opt is null', (r) => r.opt === null],
  ['opt is not null', (r) => r.opt !== null],
  ['opt IS NULL', (r) => r.opt === null],
  ['opt > 50', (r) => r.opt !== null && r.opt > 50],
  ['opt != 5', (r) => r.opt !== null && r.opt !== 5],
  // dynamic fields
  ['color == "red"', (r) => r.color === 'red'],
  ['$meta["color"] == "blue"', (r) => r.color === 'blue'],
  ['color in ["red", "green"]', (r) => ['red', 'green'].includes(r.color)],
];

// Malformed filters: syntax errors must say where they are; the others what is wrong.
const SYNTAX_ERRORS = [
  'age >',
  'age === 3',
  '(age > 1',
  'id in [1, 2',
  'age > 1 and',
  '"unterminated',
  '@#$',
  'age > 1 age < 2',
];
const SEMANTIC_ERRORS = [
  ['age > "text"', /age|string|type/i],
  ['id in [1, "a"]', /id|type|cast|int/i],
  ['array_length(age) == 1', /array|age/i],
  ['json_contains(age, 1)', /json|age/i],
  ['name like 5', /like|name|string/i],
  ['age > {missing}', /missing|template|placeholder/i],
];
const POSITION = /\b(line \d+:\d+|col(umn)?\s*:?\s*\d+|position\s*:?\s*\d+|offset\s*:?\s*\d+|at \d+|char(acter)?\s*\d+)/i;

describe('query', { timeout: 180_000 }, () => {
  let server;
  let client;
  const name = uniqueName('query');
  const strict = uniqueName('query_strict'); // no dynamic field

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    assertOk(await createCollection(client, {
      collection_name: name,
      enable_dynamic_field: true,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: 2 },
        { name: 'age', data_type: DataType.Int32 },
        { name: 'score', data_type: DataType.Double },
        { name: 'name', data_type: DataType.VarChar, max_length: 16 },
        { name: 'flag', data_type: DataType.Bool },
        { name: 'meta', data_type: DataType.JSON },
        { name: 'arr', data_type: DataType.Array, element_type: DataType.Int64, max_capacity: 4 },
        { name: 'opt', data_type: DataType.Int64, nullable: true },
      ],
    }));
    assertOk(await client.createPartition({ collection_name: name, partition_name: PARTITION_B }));
    await loadCollection(client, name);
    await insertRows(client, name, ROWS.slice(0, 50));
    await insertRows(client, name, ROWS.slice(50), { partition_name: PARTITION_B });

    assertOk(await createCollection(client, {
      collection_name: strict,
      fields: [
        { name: 'id', data_type: DataType.Int64, is_primary_key: true },
        { name: 'vector', data_type: DataType.FloatVector, dim: 2 },
        { name: 'age', data_type: DataType.Int32 },
      ],
    }));
    await loadCollection(client, strict);
    await insertRows(client, strict, range(0, 10).map((id) => ({ id, vector: vectorFor(id, 2), age: id })));
  });
  after(() => server?.cleanup());

  describe('filters', () => {
    for (const [filter, predicate] of FILTERS) {
      test(filter, async () => {
        assert.deepEqual(await queryIds(client, name, filter), idsWhere(predicate));
      });
    }

    test('count(*) with a filter matches the rows', async () => {
      assert.equal(await countRows(client, name, { filter: 'age > 40' }), idsWhere((r) => r.age > 40).length);
      const counted = await client.count({ collection_name: name, expr: 'flag == true' });
      assertOk(counted);
      assert.equal(counted.data, idsWhere((r) => r.flag).length);
    });

    test('template parameters (expr_template_values)', async () => {
      const cases = [
        ['age > {min_age}', { min_age: 40 }, (r) => r.age > 40],
        ['id in {ids}', { ids: [1, 2, 3] }, (r) => [1, 2, 3].includes(r.id)],
        ['name == {who}', { who: 'u-5' }, (r) => r.name === 'u-5'],
        ['meta["label"] == {label} and score > {s}', { label: 'odd', s: 20.5 }, (r) => r.meta.label === 'odd' && r.score > 20.5],
        ['flag == {f}', { f: true }, (r) => r.flag],
      ];
      for (const [filter, exprValues, predicate] of cases) {
        assert.deepEqual(await queryIds(client, name, filter, { exprValues }), idsWhere(predicate), filter);
      }
    });
  });

  describe('output fields', () => {
    test('named fields: exactly those plus the primary key', async () => {
      const rows = await queryRows(client, name, { filter: 'id < 3', output_fields: ['age', 'name'] });
      assert.equal(rows.length, 3);
      for (const row of rows) assert.deepEqual(Object.keys(row).sort(), ['age', 'id', 'name']);
      const byId = Object.fromEntries(rows.map((row) => [Number(row.id), row]));
      assert.deepEqual(byId[2], { id: '2', age: 2, name: 'u-2' });
    });

    test('* returns every field, with the dynamic keys in $meta', async () => {
      const rows = await queryRows(client, name, { filter: 'id == 4', output_fields: ['*'] });
      assert.equal(rows.length, 1);
      const [row] = rows;
      const want = makeRow(4);
      for (const field of ['age', 'score', 'name', 'flag']) assert.equal(row[field], want[field], field);
      assert.equal(String(row.opt), String(want.opt), 'opt (Int64, returned as a string)');
      assert.deepEqual(row.meta, want.meta);
      assert.deepEqual(row.arr.map(Number), want.arr);
      assert.deepEqual(row.vector, want.vector);
      assert.deepEqual(row.$meta, { color: want.color });
    });

    test('a dynamic key by name', async () => {
      const rows = await queryRows(client, name, { filter: 'id in [2, 3]', output_fields: ['color'] });
      const colors = Object.fromEntries(rows.map((row) => [Number(row.id), row.$meta?.color]));
      assert.deepEqual(colors, { 2: makeRow(2).color, 3: undefined });
    });

    test('no output fields: only the primary key', async () => {
      const response = assertOk(await rawCall(client, 'Query', {
        collection_name: name, expr: 'id < 5', output_fields: [], consistency_level: 'Strong',
      }));
      assert.deepEqual(response.fields_data.map((field) => field.field_name), ['id']);
      assert.deepEqual(sortIds(response.fields_data[0].scalars.long_data.data), range(0, 5));
    });

    test('an unknown field without a dynamic schema is refused, naming it', async () => {
      const response = await client.query({ collection_name: strict, filter: 'id > 0', output_fields: ['nope'] });
      assertError(response, { reason: /nope/ }, 'output_fields ["nope"]');
    });
  });

  describe('limit and offset', () => {
    test('limit returns the first rows in primary-key order', async () => {
      const rows = await queryRows(client, name, { filter: 'id >= 0', limit: 10, output_fields: ['id'] });
      assert.deepEqual(rows.map((row) => Number(row.id)), range(0, 10));
    });

    test('pages of limit + offset cover every row once, in order, across partitions', async () => {
      const seen = [];
      for (let offset = 0; offset < 110; offset += 7) {
        const rows = await queryRows(client, name, { filter: 'age >= 0', limit: 7, offset, output_fields: ['id'] });
        assert.ok(rows.length <= 7);
        seen.push(...rows.map((row) => Number(row.id)));
      }
      assert.deepEqual(seen, range(0, 100));
    });

    test('an offset past the end returns nothing', async () => {
      assert.deepEqual(await queryRows(client, name, { filter: 'id >= 0', limit: 10, offset: 100 }), []);
      const tail = await queryRows(client, name, { filter: 'id >= 0', limit: 10, offset: 95, output_fields: ['id'] });
      assert.deepEqual(tail.map((row) => Number(row.id)), range(95, 5));
    });

    test('an empty filter works with a limit and is refused without one', async () => {
      const rows = await queryRows(client, name, { filter: '', limit: 5, output_fields: ['id'] });
      assert.equal(rows.length, 5);
      const response = await client.query({ collection_name: name, filter: '', output_fields: ['id'] });
      assertError(response, { code: Code.ParameterInvalid, reason: /empty expression|limit/i }, 'empty filter without limit');
    });

    test('count(*) with a limit is refused', async () => {
      const response = await client.query({ collection_name: name, filter: 'id >= 0', output_fields: ['count(*)'], limit: 3 });
      assertError(response, { code: Code.ParameterInvalid, reason: /pagination|limit/i }, 'count(*) with limit');
    });

    test('offset + limit beyond the maximum query window (16384) is refused', async () => {
      const response = await client.query({ collection_name: name, filter: 'id >= 0', limit: 16000, offset: 1000 });
      assertError(response, { reason: /window|16384|limit/i }, 'offset 1000 + limit 16000');
    });

    test('the query iterator walks every row exactly once', async () => {
      const iterator = await client.queryIterator({
        collection_name: name, filter: 'id >= 0', batchSize: 13, output_fields: ['id'],
      });
      const seen = [];
      for await (const batch of iterator) {
        if (batch.length === 0) break;
        seen.push(...batch.map((row) => Number(row.id)));
      }
      assert.deepEqual(seen, range(0, 100));
    });
  });

  describe('partitions', () => {
    test('partition_names restricts the rows', async () => {
      assert.deepEqual(await queryIds(client, name, 'id >= 0', { partition_names: [PARTITION_B] }), range(50, 50));
      assert.deepEqual(await queryIds(client, name, 'age < 2', { partition_names: ['_default'] }), [0, 1]);
      assert.deepEqual(await queryIds(client, name, 'age < 2', { partition_names: ['_default', PARTITION_B] }), [0, 1, 50, 51]);
      assert.equal(await countRows(client, name, { partition_names: [PARTITION_B] }), 50);
    });

    test('an unknown partition is refused', async () => {
      const response = await client.query({ collection_name: name, filter: 'id >= 0', partition_names: ['nope'] });
      assertError(response, { code: Code.PartitionNotFound, reason: /partition/i }, 'partition_names ["nope"]');
    });
  });

  describe('malformed filters', () => {
    for (const filter of SYNTAX_ERRORS) {
      test(`syntax error: ${filter}`, async () => {
        const response = await client.query({ collection_name: name, filter, output_fields: ['id'] });
        const status = assertError(response, { code: Code.ParameterInvalid }, `filter ${filter}`);
        assert.match(status.reason, POSITION, `the error must say where the problem is: "${status.reason}"`);
      });
    }

    for (const [filter, mentions] of SEMANTIC_ERRORS) {
      test(`invalid: ${filter}`, async () => {
        const response = await client.query({ collection_name: name, filter, output_fields: ['id'] });
        assertError(response, { code: Code.ParameterInvalid, reason: mentions }, `filter ${filter}`);
      });
    }

    test('an unknown field without a dynamic schema is refused, naming it', async () => {
      const response = await client.query({ collection_name: strict, filter: 'nope > 1', output_fields: ['id'] });
      assertError(response, { code: Code.ParameterInvalid, reason: /nope/ }, 'filter on an unknown field');
    });

    test('a deeply nested filter does not crash the server', async () => {
      const depth = 5000;
      const filter = `${'('.repeat(depth)}id < 3${')'.repeat(depth)}`;
      const response = await client.query({ collection_name: name, filter, output_fields: ['id'] });
      if (response.status.error_code === 'Success') {
        assert.deepEqual(sortIds(response.data.map((row) => row.id)), [0, 1, 2]);
      } else {
        assert.ok(response.status.reason, 'an error needs a reason');
      }
      assert.ok(server.isRunning(), `quiver died on a deeply nested filter\n${server.output()}`);
      assert.deepEqual(await queryIds(client, name, 'id < 2'), [0, 1]);
    });

    test('after all the bad filters the data is unchanged', async () => {
      assert.equal(await countRows(client, name), 100);
      assert.equal(await countRows(client, strict), 10);
    });
  });
});
