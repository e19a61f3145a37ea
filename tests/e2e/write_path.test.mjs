// The write path through the Node SDK: insert (every field type, autoID, VarChar keys,
// nullable/default values, dynamic fields, partitions, partition keys), upsert, delete by keys
// and by filter, flush, and exact counts from count(*) and GetCollectionStatistics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, listPartitionNames, uniqueName,
} from './milvus.mjs';
import {
  countRows, flushSync, insertRows, loadCollection, mutationIds, partitionRowCount, queryIds,
  queryRows, range, rowsWithIds, sortIds, statsRowCount, vectorFor,
} from './data.mjs';

const pk = { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false };
const vector = (dim = 4) => ({ name: 'vector', data_type: DataType.FloatVector, dim });

// Rows sorted by primary key, so that comparisons do not depend on result order.
function byId(rows) {
  return [...rows].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

// The dynamic keys of a row: Milvus returns them inside the `$meta` JSON column.
function dynamicPart(row) {
  return row.$meta ?? {};
}

describe('write path', { timeout: 180_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startQuiver();
    client = await server.client();
  });
  after(() => server?.cleanup());

  // Creates a collection with `fields` and loads it, so that reads work right away.
  async function loadedCollection(prefix, fields, options = {}) {
    const name = uniqueName(prefix);
    assertOk(await createCollection(client, { collection_name: name, fields, ...options }), `create ${name}`);
    await loadCollection(client, name);
    return name;
  }

  describe('insert', () => {
    test('Int64 keys: insert_cnt, returned IDs, count(*) and the rows themselves', async () => {
      const name = await loadedCollection('ins_int', [pk, vector(4)]);
      const ids = range(1, 100);
      const inserted = await insertRows(client, name, rowsWithIds(ids));
      assert.deepEqual(mutationIds(inserted), ids.map(String), 'IDs of an insert are the given keys, in order');
      assert.equal(await countRows(client, name), 100);

      const rows = byId(await queryRows(client, name, { filter: 'id >= 1', output_fields: ['id', 'vector'] }));
      assert.deepEqual(rows.map((row) => Number(row.id)), ids);
      for (const row of rows) assert.deepEqual(row.vector, vectorFor(Number(row.id)), `vector of row ${row.id}`);
      assert.equal((await client.count({ collection_name: name })).data, 100, 'client.count');
    });

    test('every scalar type round-trips, including the limits of each integer type', async () => {
      const name = await loadedCollection('ins_scalars', [
        pk, vector(4),
        { name: 'b', data_type: DataType.Bool },
        { name: 'i8', data_type: DataType.Int8 },
        { name: 'i16', data_type: DataType.Int16 },
        { name: 'i32', data_type: DataType.Int32 },
        { name: 'i64', data_type: DataType.Int64 },
        { name: 'f', data_type: DataType.Float },
        { name: 'd', data_type: DataType.Double },
        { name: 's', data_type: DataType.VarChar, max_length: 64 },
      ]);
      const rows = [
        { id: 1, b: true, i8: -128, i16: -32768, i32: -2147483648, i64: '-9223372036854775808', f: 1.5, d: -2.5e300, s: '' },
        { id: 2, b: false, i8: 127, i16: 32767, i32: 2147483647, i64: '9223372036854775807', f: -0.125, d: Math.PI, s: 'héllo wörld ✓' },
        { id: 3, b: true, i8: 0, i16: 7, i32: -1, i64: '9007199254740993', f: 3.0e38, d: 5e-324, s: 'x'.repeat(64) },
      ].map((row) => ({ ...row, vector: vectorFor(row.id) }));
      await insertRows(client, name, rows);

      const read = byId(await queryRows(client, name, { filter: 'id > 0', output_fields: ['*'] }));
      assert.equal(read.length, 3);
      for (const [i, row] of read.entries()) {
        const want = rows[i];
        assert.equal(Number(row.id), want.id);
        assert.equal(row.b, want.b, `b of ${want.id}`);
        assert.equal(row.i8, want.i8, `i8 of ${want.id}`);
        assert.equal(row.i16, want.i16, `i16 of ${want.id}`);
        assert.equal(row.i32, want.i32, `i32 of ${want.id}`);
        assert.equal(String(row.i64), want.i64, `i64 of ${want.id}`);
        assert.equal(row.f, Math.fround(want.f), `f of ${want.id}`);
        assert.equal(row.d, want.d, `d of ${want.id}`);
        assert.equal(row.s, want.s, `s of ${want.id}`);
      }
    });

    test('nullable fields read back null; null or missing values take the default value', async () => {
      const name = await loadedCollection('ins_nullable', [
        pk, vector(4),
        { name: 'price', data_type: DataType.Double, nullable: true },
        { name: 'stock', data_type: DataType.Int32, default_value: 7 },
        { name: 'label', data_type: DataType.VarChar, max_length: 16, nullable: true, default_value: 'none' },
        { name: 'note', data_type: DataType.VarChar, max_length: 16, nullable: true },
        { name: 'extra', data_type: DataType.JSON, nullable: true },
      ]);
      await insertRows(client, name, [
        { id: 1, vector: vectorFor(1), price: 9.5, stock: 3, label: 'a', note: 'n', extra: { k: 1 } },
        { id: 2, vector: vectorFor(2), price: null, stock: null, label: null, note: null },
        { id: 3, vector: vectorFor(3) },
      ]);
      const rows = byId(await queryRows(client, name, {
        filter: 'id > 0', output_fields: ['price', 'stock', 'label', 'note', 'extra'],
      }));
      const values = rows.map(({ id, price, stock, label, note, extra }) => ({ id: Number(id), price, stock, label, note, extra }));
      assert.deepEqual(values, [
        { id: 1, price: 9.5, stock: 3, label: 'a', note: 'n', extra: { k: 1 } },
        { id: 2, price: null, stock: 7, label: 'none', note: null, extra: null },
        { id: 3, price: null, stock: 7, label: 'none', note: null, extra: null },
      ]);
      assert.deepEqual(await queryIds(client, name, 'price is null'), [2, 3]);
      assert.deepEqual(await queryIds(client, name, 'note is not null'), [1]);
      assert.deepEqual(await queryIds(client, name, 'stock == 7'), [2, 3]);
      assert.deepEqual(await queryIds(client, name, 'label == "none"'), [2, 3]);
    });

    test('JSON and Array fields round-trip', async () => {
      const name = await loadedCollection('ins_json_array', [
        pk, vector(4),
        { name: 'meta', data_type: DataType.JSON },
        { name: 'tags', data_type: DataType.Array, element_type: DataType.VarChar, max_capacity: 4, max_length: 12 },
        { name: 'nums', data_type: DataType.Array, element_type: DataType.Int64, max_capacity: 5 },
        { name: 'flags', data_type: DataType.Array, element_type: DataType.Bool, max_capacity: 3 },
        { name: 'ratios', data_type: DataType.Array, element_type: DataType.Double, max_capacity: 3 },
        { name: 'small', data_type: DataType.Array, element_type: DataType.Int16, max_capacity: 2 },
      ]);
      const rows = [
        {
          id: 1, meta: { a: { b: [1, 2, { c: 'deep' }] }, s: 'str', n: 1.5, t: true, z: null },
          tags: ['x', 'y'], nums: ['-1', '9007199254740993'], flags: [true, false, true], ratios: [0.5, -2], small: [-32768, 32767],
        },
        { id: 2, meta: [1, 'two', { three: 3 }], tags: [], nums: [], flags: [], ratios: [], small: [] },
        { id: 3, meta: 'just a string', tags: ['a', 'b', 'c', 'd'], nums: ['1', '2', '3', '4', '5'], flags: [false], ratios: [1e-9], small: [0] },
        { id: 4, meta: 42.25, tags: ['ünï'], nums: ['0'], flags: [true], ratios: [3], small: [1, 2] },
      ].map((row) => ({ ...row, vector: vectorFor(row.id) }));
      await insertRows(client, name, rows);

      const read = byId(await queryRows(client, name, {
        filter: 'id > 0', output_fields: ['meta', 'tags', 'nums', 'flags', 'ratios', 'small'],
      }));
      assert.equal(read.length, rows.length);
      for (const [i, row] of read.entries()) {
        const want = rows[i];
        assert.deepEqual(row.meta, want.meta, `meta of ${want.id}`);
        assert.deepEqual(row.tags, want.tags, `tags of ${want.id}`);
        assert.deepEqual(row.nums.map(String), want.nums, `nums of ${want.id}`);
        assert.deepEqual(row.flags, want.flags, `flags of ${want.id}`);
        assert.deepEqual(row.ratios, want.ratios, `ratios of ${want.id}`);
        assert.deepEqual(row.small, want.small, `small of ${want.id}`);
      }
    });

    test('dynamic fields are stored in $meta, filterable and returned by name', async () => {
      const name = await loadedCollection('ins_dynamic', [pk, vector(4)], { enable_dynamic_field: true });
      await insertRows(client, name, [
        { id: 1, vector: vectorFor(1), color: 'red', size: 3, nested: { k: 'v' } },
        { id: 2, vector: vectorFor(2), color: 'blue', size: 10 },
        { id: 3, vector: vectorFor(3) },
      ]);
      const all = byId(await queryRows(client, name, { filter: 'id > 0', output_fields: ['*'] }));
      assert.deepEqual(all.map(dynamicPart), [
        { color: 'red', size: 3, nested: { k: 'v' } }, { color: 'blue', size: 10 }, {},
      ]);
      assert.deepEqual(await queryIds(client, name, 'color == "red"'), [1]);
      assert.deepEqual(await queryIds(client, name, 'size > 5'), [2]);
      assert.deepEqual(await queryIds(client, name, 'nested["k"] == "v"'), [1]);
      assert.deepEqual(await queryIds(client, name, '$meta["color"] == "blue"'), [2]);

      const colors = byId(await queryRows(client, name, { filter: 'id > 0', output_fields: ['color'] }));
      assert.deepEqual(colors.map((row) => dynamicPart(row).color), ['red', 'blue', undefined]);
      assert.ok(colors.every((row) => dynamicPart(row).size === undefined),
        `asking for the dynamic key "color" must not return "size": ${JSON.stringify(colors)}`);
    });

    test('float, binary, float16 and bfloat16 vectors round-trip', async () => {
      const name = await loadedCollection('ins_vectors', [
        pk,
        { name: 'fv', data_type: DataType.FloatVector, dim: 4 },
        { name: 'bv', data_type: DataType.BinaryVector, dim: 16 },
        { name: 'f16', data_type: DataType.Float16Vector, dim: 4 },
        { name: 'bf16', data_type: DataType.BFloat16Vector, dim: 4 },
      ]);
      const rows = [
        { id: 1, fv: [0.1, -0.2, 3.5, 1e-3], bv: [0b10101010, 255], f16: [0.5, -1, 2, 0.25], bf16: [1, -0.5, 4, 0.125] },
        { id: 2, fv: [0, 0, 0, 0], bv: [0, 1], f16: [65504, -65504, 0, 1], bf16: [-2, 0.75, 8, 16] },
      ];
      await insertRows(client, name, rows);
      const read = byId(await queryRows(client, name, { filter: 'id > 0', output_fields: ['fv', 'bv', 'f16', 'bf16'] }));
      assert.equal(read.length, 2);
      for (const [i, row] of read.entries()) {
        const want = rows[i];
        assert.deepEqual(row.fv, want.fv.map(Math.fround), `fv of ${want.id}`);
        assert.deepEqual(row.bv, want.bv, `bv of ${want.id}`);
        assert.deepEqual([...row.f16], want.f16, `f16 of ${want.id}`);
        assert.deepEqual([...row.bf16], want.bf16, `bf16 of ${want.id}`);
      }
    });

    test('sparse float vectors round-trip', async () => {
      const name = await loadedCollection('ins_sparse', [pk, { name: 'sv', data_type: DataType.SparseFloatVector }]);
      const rows = [
        { id: 1, sv: { 1: 0.5, 100: 0.25, 4096: 1.5 } },
        { id: 2, sv: { 7: 3 } },
      ];
      await insertRows(client, name, rows);
      const read = byId(await queryRows(client, name, { filter: 'id > 0', output_fields: ['sv'] }));
      const normalise = (sparse) => Object.fromEntries(Object.entries(sparse).map(([k, v]) => [String(k), Math.fround(v)]));
      assert.deepEqual(read.map((row) => normalise(row.sv)), rows.map((row) => normalise(row.sv)));
    });

    test('autoID keys are generated, unique across inserts, and returned', async () => {
      const name = await loadedCollection('ins_autoid', [{ ...pk, autoID: true }, vector(4), { name: 'n', data_type: DataType.Int32 }]);
      const batch = (offset) => range(offset, 50).map((n) => ({ vector: vectorFor(n), n }));
      const first = mutationIds(await insertRows(client, name, batch(0)));
      const second = mutationIds(await insertRows(client, name, batch(50)));
      assert.equal(first.length, 50);
      assert.equal(second.length, 50);
      assert.equal(new Set([...first, ...second]).size, 100, 'generated keys must be unique');
      assert.equal(await countRows(client, name), 100);

      const rows = await queryRows(client, name, { filter: `id in [${second.join(',')}]`, output_fields: ['id', 'n'] });
      const nById = Object.fromEntries(rows.map((row) => [String(row.id), row.n]));
      assert.deepEqual(second.map((id) => nById[id]), range(50, 50), 'each returned key names the row inserted at its position');
    });

    test('VarChar primary keys: insert, query by key, delete by key, upsert', async () => {
      const name = await loadedCollection('ins_varchar', [
        { name: 'id', data_type: DataType.VarChar, is_primary_key: true, max_length: 32 },
        vector(4),
        { name: 'n', data_type: DataType.Int32 },
      ]);
      const keys = ['alpha', 'beta', 'gamma', 'ünïcode', 'with "quote"'];
      const inserted = await insertRows(client, name, keys.map((id, n) => ({ id, vector: vectorFor(n), n })));
      assert.deepEqual(mutationIds(inserted), keys);
      assert.deepEqual(await queryIds(client, name, 'id in ["alpha", "gamma"]'), ['alpha', 'gamma']);

      const deleted = assertOk(await client.delete({ collection_name: name, filter: 'id in ["beta"]' }));
      assert.equal(Number(deleted.delete_cnt), 1);
      assertOk(await client.upsert({ collection_name: name, data: [{ id: 'alpha', vector: vectorFor(9), n: 99 }] }));
      const rows = await queryRows(client, name, { filter: 'id != ""', output_fields: ['n'] });
      assert.deepEqual(Object.fromEntries(rows.map((row) => [row.id, row.n])),
        { alpha: 99, gamma: 2, 'ünïcode': 3, 'with "quote"': 4 });
    });

    test('into a named partition, visible through partition_names', async () => {
      const name = uniqueName('ins_partition');
      assertOk(await createCollection(client, { collection_name: name, fields: [pk, vector(4)] }));
      assertOk(await client.createPartition({ collection_name: name, partition_name: 'hot' }));
      await loadCollection(client, name);
      await insertRows(client, name, rowsWithIds(range(0, 10)), { partition_name: 'hot' });
      await insertRows(client, name, rowsWithIds(range(10, 5)));

      assert.equal(await countRows(client, name, { partition_names: ['hot'] }), 10);
      assert.equal(await countRows(client, name, { partition_names: ['_default'] }), 5);
      assert.equal(await countRows(client, name), 15);
      assert.deepEqual(await queryIds(client, name, 'id >= 0', { partition_names: ['hot'] }), range(0, 10));

      const missing = await client.insert({ collection_name: name, partition_name: 'nope', data: rowsWithIds([100]) });
      assertError(missing, { code: Code.PartitionNotFound, reason: /partition/i }, 'insert into a missing partition');
      assert.equal(await countRows(client, name), 15, 'a failed insert must not add rows');
    });

    test('partition key: each key value lands in exactly one partition, and routing is exact', async () => {
      const name = uniqueName('ins_partition_key');
      assertOk(await createCollection(client, {
        collection_name: name,
        num_partitions: 4,
        fields: [pk, vector(4), { name: 'tenant', data_type: DataType.VarChar, max_length: 16, is_partition_key: true }],
      }));
      await loadCollection(client, name);
      // Tenant t<k> gets 2^k rows, so a partition's row count says which tenants it holds.
      const rows = [];
      for (let k = 0; k < 8; k++) {
        for (let j = 0; j < 2 ** k; j++) rows.push({ id: rows.length, vector: vectorFor(rows.length), tenant: `t${k}` });
      }
      await insertRows(client, name, rows);
      for (let k = 0; k < 8; k++) {
        assert.equal(await countRows(client, name, { filter: `tenant == "t${k}"` }), 2 ** k, `rows of tenant t${k}`);
      }

      await flushSync(client, name);
      const partitions = await listPartitionNames(client, name);
      assert.equal(partitions.length, 4, `partitions: ${partitions}`);
      const counts = [];
      for (const partition of partitions) counts.push(await partitionRowCount(client, name, partition));
      assert.equal(counts.reduce((a, b) => a + b, 0), 255, `partition row counts ${counts}`);
      for (let a = 0; a < counts.length; a++) {
        for (let b = a + 1; b < counts.length; b++) {
          assert.equal(counts[a] & counts[b], 0, `a tenant is split across partitions: counts ${counts}`);
        }
      }

      assertError(await client.insert({ collection_name: name, partition_name: partitions[0], data: [rows[0]] }),
        { reason: /partition/i }, 'insert naming a partition in partition-key mode');
      const named = await client.query({ collection_name: name, filter: 'id >= 0', partition_names: [partitions[0]] });
      assertError(named, { reason: /partition/i }, 'query naming a partition in partition-key mode');
      assert.equal(await countRows(client, name), 255);
    });

    test('one large request: 20,000 rows of 128-dim vectors', async () => {
      const name = await loadedCollection('ins_large', [pk, vector(128)]);
      const ids = range(0, 20_000);
      await insertRows(client, name, rowsWithIds(ids, 128));
      assert.equal(await countRows(client, name), 20_000);
      const sample = await queryRows(client, name, { filter: 'id in [0, 12345, 19999]', output_fields: ['vector'] });
      assert.deepEqual(byId(sample).map((row) => row.vector), [0, 12345, 19999].map((id) => vectorFor(id, 128)));
    });

    test('through an alias, and into a collection renamed afterwards', async () => {
      const name = await loadedCollection('ins_alias', [pk, vector(4)]);
      const alias = uniqueName('alias');
      assertOk(await client.createAlias({ collection_name: name, alias }));
      await insertRows(client, alias, rowsWithIds(range(0, 10)));
      assert.equal(await countRows(client, alias), 10);
      assert.equal(await countRows(client, name), 10);

      const renamed = uniqueName('renamed');
      assertOk(await client.renameCollection({ collection_name: name, new_collection_name: renamed }));
      assert.equal(await countRows(client, renamed), 10, 'rows follow a renamed collection');
      await insertRows(client, renamed, rowsWithIds(range(10, 5)));
      assert.equal(await countRows(client, alias), 15, 'the alias follows the renamed collection');
    });

    test('collections of the same name in two databases keep their own rows', async () => {
      const db = uniqueName('db');
      assertOk(await client.createDatabase({ db_name: db }));
      const name = await loadedCollection('ins_db', [pk, vector(4)]);
      assertOk(await createCollection(client, { collection_name: name, db_name: db, fields: [pk, vector(4)] }));
      const other = await server.client({ database: db });
      await loadCollection(other, name);
      await insertRows(client, name, rowsWithIds(range(0, 3)));
      await insertRows(other, name, rowsWithIds(range(100, 5)));
      assert.deepEqual(await queryIds(client, name, 'id >= 0'), range(0, 3));
      assert.deepEqual(await queryIds(other, name, 'id >= 0'), range(100, 5));
    });

    test('get by primary keys', async () => {
      const name = await loadedCollection('ins_get', [pk, vector(4), { name: 'n', data_type: DataType.Int32 }]);
      await insertRows(client, name, rowsWithIds(range(0, 20), 4, (id) => ({ n: id * 10 })));
      const response = assertOk(await client.get({ collection_name: name, ids: [3, 7, 99], output_fields: ['n'] }));
      assert.deepEqual(byId(response.data).map((row) => [Number(row.id), row.n]), [[3, 30], [7, 70]]);
    });

    test('rows inserted before the collection is loaded are all there after loading', async () => {
      const name = uniqueName('ins_then_load');
      assertOk(await createCollection(client, { collection_name: name, fields: [pk, vector(4)] }));
      await insertRows(client, name, rowsWithIds(range(0, 300)));
      await flushSync(client, name);
      await insertRows(client, name, rowsWithIds(range(300, 200)));
      await loadCollection(client, name);
      assert.equal(await countRows(client, name), 500);
      assert.deepEqual(await queryIds(client, name, 'id >= 295 and id < 305'), range(295, 10));
    });
  });

  describe('upsert', () => {
    test('replaces rows with the same key and inserts new ones; the count is of distinct keys', async () => {
      const name = await loadedCollection('upsert', [pk, vector(4), { name: 'version', data_type: DataType.Int32 }]);
      await insertRows(client, name, rowsWithIds(range(0, 10), 4, () => ({ version: 1 })));
      const upserted = assertOk(await client.upsert({
        collection_name: name, data: rowsWithIds(range(5, 10), 4, () => ({ version: 2 })),
      }));
      assert.equal(Number(upserted.upsert_cnt), 10, 'upsert_cnt');
      assert.deepEqual(mutationIds(upserted), range(5, 10).map(String));
      assert.equal(await countRows(client, name), 15);

      const rows = await queryRows(client, name, { filter: 'id >= 0', output_fields: ['version'] });
      const versions = Object.fromEntries(rows.map((row) => [Number(row.id), row.version]));
      assert.deepEqual(versions, Object.fromEntries(range(0, 15).map((id) => [id, id < 5 ? 1 : 2])));

      // Upserting the same rows again changes nothing visible.
      assertOk(await client.upsert({ collection_name: name, data: rowsWithIds(range(5, 10), 4, () => ({ version: 2 })) }));
      assert.equal(await countRows(client, name), 15);
    });

    test('upsert of flushed rows replaces them too', async () => {
      const name = await loadedCollection('upsert_flushed', [pk, vector(4), { name: 'version', data_type: DataType.Int32 }]);
      await insertRows(client, name, rowsWithIds(range(0, 20), 4, () => ({ version: 1 })));
      await flushSync(client, name);
      assertOk(await client.upsert({ collection_name: name, data: rowsWithIds(range(0, 20), 4, () => ({ version: 3 })) }));
      assert.equal(await countRows(client, name), 20);
      assert.equal(await countRows(client, name, { filter: 'version == 3' }), 20);
      await flushSync(client, name);
      assert.equal(await countRows(client, name), 20);
      const stats = await statsRowCount(client, name);
      assert.ok(stats >= 20 && stats <= 40,
        `GetCollectionStatistics row_count ${stats}: Milvus counts replaced rows until compaction, so 20..40`);
    });
  });

  describe('delete', () => {
    async function hundredRows(prefix) {
      const name = await loadedCollection(prefix, [pk, vector(4), { name: 'val', data_type: DataType.Int64 }]);
      await insertRows(client, name, rowsWithIds(range(0, 100), 4, (id) => ({ val: id })));
      return name;
    }

    test('by primary-key list', async () => {
      const name = await hundredRows('del_ids');
      const deleted = assertOk(await client.delete({ collection_name: name, ids: range(0, 10) }));
      assert.equal(Number(deleted.delete_cnt), 10, 'delete_cnt');
      assert.equal(await countRows(client, name), 90);
      assert.deepEqual(await queryIds(client, name, 'id < 12'), [10, 11]);
    });

    test('by filter expression, with `filter` and with `expr`', async () => {
      const name = await hundredRows('del_filter');
      const byFilter = assertOk(await client.delete({ collection_name: name, filter: 'val >= 90' }));
      assert.equal(Number(byFilter.delete_cnt), 10, 'delete_cnt counts the matched rows');
      const byExpr = assertOk(await client.deleteEntities({ collection_name: name, expr: 'val % 10 == 0' }));
      assert.equal(Number(byExpr.delete_cnt), 9, 'rows 0, 10, ..., 80 (90 is already gone)');
      assert.equal(await countRows(client, name), 81);
      assert.deepEqual(await queryIds(client, name, 'val >= 85'), [85, 86, 87, 88, 89]);
    });

    test('of flushed rows', async () => {
      const name = await hundredRows('del_flushed');
      await flushSync(client, name);
      assertOk(await client.delete({ collection_name: name, filter: 'val < 50' }));
      assert.equal(await countRows(client, name), 50);
      await flushSync(client, name);
      assert.equal(await countRows(client, name), 50);
    });

    test('in one partition leaves the same keys of other partitions alone', async () => {
      const name = uniqueName('del_partition');
      assertOk(await createCollection(client, { collection_name: name, fields: [pk, vector(4)] }));
      assertOk(await client.createPartition({ collection_name: name, partition_name: 'other' }));
      await loadCollection(client, name);
      await insertRows(client, name, rowsWithIds(range(0, 10)));
      await insertRows(client, name, rowsWithIds(range(100, 10)), { partition_name: 'other' });
      assertOk(await client.delete({ collection_name: name, filter: 'id >= 0', partition_name: 'other' }));
      assert.equal(await countRows(client, name), 10);
      assert.deepEqual(await queryIds(client, name, 'id >= 0'), range(0, 10));
    });

    test('by filter with template parameters', async () => {
      const name = await hundredRows('del_template');
      assertOk(await client.delete({ collection_name: name, filter: 'val in {vals} or val > {top}', exprValues: { vals: [1, 2, 3], top: 97 } }));
      assert.equal(await countRows(client, name), 95);
      assert.deepEqual(await queryIds(client, name, 'val < 5 or val > 95'), [0, 4, 96, 97]);
    });

    test('of keys that do not exist succeeds and changes nothing', async () => {
      const name = await hundredRows('del_missing');
      assertOk(await client.delete({ collection_name: name, ids: [1000, 2000] }));
      assert.equal(await countRows(client, name), 100);
    });

    test('a key inserted again after its delete is visible again, with the new values', async () => {
      const name = await hundredRows('del_reinsert');
      assertOk(await client.delete({ collection_name: name, ids: [5] }));
      assert.deepEqual(await queryIds(client, name, 'id == 5'), []);
      await insertRows(client, name, rowsWithIds([5], 4, () => ({ val: 500 })));
      const rows = await queryRows(client, name, { filter: 'id == 5', output_fields: ['val'] });
      assert.deepEqual(rows.map((row) => Number(row.val)), [500]);
      assert.equal(await countRows(client, name), 100);
    });

    test('a malformed filter is refused and nothing is deleted', async () => {
      const name = await hundredRows('del_bad');
      const response = await client.delete({ collection_name: name, filter: 'val >>> 3' });
      assertError(response, { code: Code.ParameterInvalid }, 'delete with a malformed filter');
      assert.equal(await countRows(client, name), 100);
    });
  });

  describe('flush and statistics', () => {
    test('count(*) is exact before flushing; statistics are exact after flushSync', async () => {
      const name = await loadedCollection('flush_stats', [pk, vector(4)]);
      await insertRows(client, name, rowsWithIds(range(0, 300)));
      assert.equal(await countRows(client, name), 300);

      const flushed = assertOk(await client.flush({ collection_names: [name] }), 'Flush');
      assert.ok(flushed.coll_segIDs && name in flushed.coll_segIDs,
        `Flush must list the collection's segments: ${JSON.stringify(flushed.coll_segIDs)}`);
      await flushSync(client, name);
      assert.equal(await statsRowCount(client, name), 300);
      assert.equal(await partitionRowCount(client, name, '_default'), 300);

      assertOk(await client.delete({ collection_name: name, filter: 'id < 50' }));
      await flushSync(client, name);
      assert.equal(await countRows(client, name), 250);
      const stats = await statsRowCount(client, name);
      assert.ok(stats >= 250 && stats <= 300,
        `row_count ${stats}: Milvus may count deleted rows until compaction, so 250..300`);
    });

    test('flushing a collection with nothing new, and flushing twice, both succeed', async () => {
      const name = await loadedCollection('flush_empty', [pk, vector(4)]);
      await flushSync(client, name);
      await insertRows(client, name, rowsWithIds(range(0, 10)));
      await flushSync(client, name);
      await flushSync(client, name);
      assert.equal(await countRows(client, name), 10);
      assert.equal(await statsRowCount(client, name), 10);
    });

    test('flushing a collection that does not exist fails with collection not found', async () => {
      const response = await client.flush({ collection_names: [uniqueName('no_such')] });
      assertError(response, { code: Code.CollectionNotFound }, 'Flush(missing)');
    });

    test('many small inserts: count(*) and statistics agree with the number of rows', async () => {
      const name = await loadedCollection('flush_many', [pk, vector(4)]);
      const expected = [];
      for (let batch = 0; batch < 40; batch++) {
        const ids = range(batch * 25, 25);
        expected.push(...ids);
        await insertRows(client, name, rowsWithIds(ids));
        if (batch % 10 === 9) await flushSync(client, name);
      }
      assert.equal(await countRows(client, name), 1000);
      await flushSync(client, name);
      assert.equal(await statsRowCount(client, name), 1000);
      const ids = sortIds((await queryRows(client, name, { filter: 'id >= 0', output_fields: ['id'] })).map((row) => row.id));
      assert.deepEqual(ids, expected);
    });
  });
});
