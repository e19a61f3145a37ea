// Bad writes are refused with Milvus's error and change nothing: a request is all or nothing.
// Requests the SDK would refuse on its own go through rawInsert, so the server is what is tested.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, rawCall, uniqueName,
} from './milvus.mjs';
import {
  column, countRows, insertRows, loadCollection, mutationIds, range, rawInsert, vectorFor,
} from './data.mjs';

const MAX_MESSAGE_BYTES = 1 << 20;
const DIM = 4;
const fields = [
  { name: 'id', data_type: DataType.Int64, is_primary_key: true },
  { name: 'vector', data_type: DataType.FloatVector, dim: DIM },
  { name: 'age', data_type: DataType.Int32 },
  { name: 'small', data_type: DataType.Int8 },
  { name: 'name', data_type: DataType.VarChar, max_length: 16 },
  { name: 'tags', data_type: DataType.Array, element_type: DataType.VarChar, max_capacity: 4, max_length: 8 },
  { name: 'ratio', data_type: DataType.Double },
  { name: 'meta', data_type: DataType.JSON },
];

function row(id, overrides = {}) {
  return {
    id, vector: vectorFor(id, DIM), age: id, small: id % 100, name: `n${id}`, tags: ['a'], ratio: id / 2, meta: { id },
    ...overrides,
  };
}

// Valid FieldData columns for `ids`, by field name, for raw requests to modify.
function goodColumns(ids) {
  return {
    id: column.int64('id', ids),
    vector: column.floatVector('vector', DIM, ids.map((id) => vectorFor(id, DIM))),
    age: column.int32('age', ids),
    small: { type: DataType.Int8, field_name: 'small', scalars: { int_data: { data: ids.map((id) => id % 100) } } },
    name: column.varchar('name', ids.map((id) => `n${id}`)),
    tags: {
      type: DataType.Array,
      field_name: 'tags',
      scalars: {
        array_data: {
          element_type: DataType.VarChar,
          data: ids.map(() => ({ string_data: { data: ['a'] } })),
        },
      },
    },
    ratio: { type: DataType.Double, field_name: 'ratio', scalars: { double_data: { data: ids.map((id) => id / 2) } } },
    meta: {
      type: DataType.JSON, field_name: 'meta', scalars: { json_data: { data: ids.map((id) => Buffer.from(JSON.stringify({ id }))) } },
    },
  };
}

describe('bad writes', { timeout: 120_000 }, () => {
  let server;
  let client;
  const name = uniqueName('bad_writes');
  const baselineRows = 10;
  let expectedCount = baselineRows;

  before(async () => {
    server = await startQuiver({ env: { QUIVER_PROXY_MAXMESSAGESIZE: String(MAX_MESSAGE_BYTES) } });
    client = await server.client();
    assertOk(await createCollection(client, { collection_name: name, fields }));
    await loadCollection(client, name);
    await insertRows(client, name, range(0, baselineRows).map((id) => row(id)));
  });
  // A write wrongly accepted by one test must not fail the next ones: drop everything but the
  // baseline rows first.
  beforeEach(async () => {
    assertOk(await client.delete({ collection_name: name, filter: `id >= ${baselineRows}` }));
    expectedCount = baselineRows;
  });
  after(() => server?.cleanup());

  async function assertUnchanged() {
    assert.equal(await countRows(client, name), expectedCount, 'a refused write changed the row count');
  }

  async function assertInsertRefused(rows, expected, what) {
    assertError(await client.insert({ collection_name: name, data: rows }), expected, what);
    await assertUnchanged();
  }

  async function assertRawRefused(columns, expected, what, { numRows = 1, method = 'Insert' } = {}) {
    const response = method === 'Insert'
      ? await rawInsert(client, name, numRows, Object.values(columns))
      : await rawCall(client, method, { collection_name: name, num_rows: numRows, fields_data: Object.values(columns) });
    assertError(response, expected, what);
    await assertUnchanged();
  }

  describe('vectors', () => {
    test('a vector shorter than dim', async () => {
      await assertInsertRefused([row(100, { vector: [1, 2, 3] })], { code: Code.ParameterInvalid, reason: /dim|length/i },
        '3 floats for dim 4');
    });

    test('a request whose declared dim differs from the schema', async () => {
      const columns = goodColumns([100]);
      columns.vector = column.floatVector('vector', 8, [[...vectorFor(1, DIM), ...vectorFor(2, DIM)]]);
      await assertRawRefused(columns, { code: Code.ParameterInvalid, reason: /dim/i }, 'dim 8 for a dim-4 field');
    });

    test('NaN in a float vector', async () => {
      await assertInsertRefused([row(100, { vector: [1, Number.NaN, 3, 4] })], { code: Code.ParameterInvalid, reason: /nan/i },
        'NaN component');
    });
  });

  describe('fields', () => {
    test('a missing field', async () => {
      const { vector, ...withoutVector } = goodColumns([100]);
      await assertRawRefused(withoutVector, { code: Code.ParameterInvalid, reason: /vector/ }, 'no vector column');
    });

    test('a row missing a field among good rows (the SDK sends a short column)', async () => {
      const { age, ...noAge } = row(102);
      await assertInsertRefused([row(100), row(101), noAge], { code: Code.ParameterInvalid }, 'third row without age');
    });

    test('an unknown field without a dynamic schema', async () => {
      const columns = { ...goodColumns([100]), extra: column.int32('extra', [1]) };
      await assertRawRefused(columns, { reason: /extra|unexpected|not exist|more fieldData|mismatch/i }, 'extra column');
    });

    test('the same field twice', async () => {
      const columns = Object.values(goodColumns([100]));
      columns.push(column.int32('age', [5]));
      assertError(await rawInsert(client, name, 1, columns), { code: Code.ParameterInvalid, reason: /age|duplicat/i },
        'age twice');
      await assertUnchanged();
    });

    test('a field of the wrong type', async () => {
      const columns = goodColumns([100]);
      columns.age = { type: DataType.Int32, field_name: 'age', scalars: { string_data: { data: ['forty'] } } };
      await assertRawRefused(columns, { code: Code.ParameterInvalid, reason: /age/ }, 'strings for an Int32 field');
    });

    test('an Int8 value out of range', async () => {
      await assertInsertRefused([row(100, { small: 200 })], { code: Code.ParameterInvalid }, 'Int8 = 200');
    });

    test('NaN or infinity in a Double field', async () => {
      await assertInsertRefused([row(100, { ratio: Number.NaN })], { code: Code.ParameterInvalid, reason: /nan|infinit/i }, 'NaN');
      await assertInsertRefused([row(100, { ratio: Number.POSITIVE_INFINITY })], { code: Code.ParameterInvalid }, 'Infinity');
    });

    test('null in a field that is not nullable', async () => {
      const columns = goodColumns([100]);
      columns.age = { ...columns.age, valid_data: [false] };
      await assertRawRefused(columns, { code: Code.ParameterInvalid }, 'valid_data false on a non-nullable field');
      await assertInsertRefused([row(100, { age: null })], { code: Code.ParameterInvalid }, 'age: null through the SDK');
    });

    test('num_rows that does not match the columns', async () => {
      await assertRawRefused(goodColumns([100]), { code: Code.ParameterInvalid }, 'num_rows 2 for 1 row', { numRows: 2 });
      await assertRawRefused(goodColumns([]), { code: Code.ParameterInvalid }, 'num_rows 0', { numRows: 0 });
    });
  });

  describe('lengths', () => {
    test('a VarChar longer than max_length, only in the last row: the whole request is refused', async () => {
      await assertInsertRefused([row(100), row(101), row(102, { name: 'x'.repeat(17) })],
        { code: Code.ParameterInvalid, reason: /length/i }, '17 characters for max_length 16');
    });

    test('max_length counts bytes: 9 two-byte characters exceed 16', async () => {
      await assertInsertRefused([row(100, { name: 'é'.repeat(9) })], { code: Code.ParameterInvalid, reason: /length/i },
        '18 bytes for max_length 16');
      await insertRows(client, name, [row(100, { name: 'é'.repeat(8) })]);
      expectedCount += 1;
      assertOk(await client.delete({ collection_name: name, ids: [100] }));
      expectedCount -= 1;
      await assertUnchanged();
    });

    test('a JSON value longer than 65,536 bytes (Milvus common.JSONMaxLength)', async () => {
      await assertInsertRefused([row(100, { meta: { blob: 'x'.repeat(70_000) } })],
        { code: Code.ParameterInvalid, reason: /length|json/i }, '70,000-byte JSON');
    });

    test('an array with more elements than max_capacity', async () => {
      await assertInsertRefused([row(100, { tags: ['a', 'b', 'c', 'd', 'e'] })],
        { code: Code.ParameterInvalid, reason: /capacity/i }, '5 elements for max_capacity 4');
    });

    test('an array element longer than its max_length', async () => {
      await assertInsertRefused([row(100, { tags: ['123456789'] })], { code: Code.ParameterInvalid, reason: /length/i },
        '9 characters for an element max_length of 8');
    });
  });

  describe('primary keys', () => {
    test('a primary key given for an autoID field', async () => {
      const auto = uniqueName('bad_autoid');
      assertOk(await createCollection(client, {
        collection_name: auto,
        fields: [{ name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: true }, fields[1]],
      }));
      await loadCollection(client, auto);
      const response = await rawInsert(client, auto, 1, [column.int64('id', [7]), column.floatVector('vector', DIM, [vectorFor(7)])]);
      assertError(response, { code: Code.ParameterInvalid, reason: /auto ?id|primary/i }, 'PK given with autoID');
      assert.equal(await countRows(client, auto), 0);
    });

    test('allow_insert_auto_id lets the caller give autoID keys', async () => {
      const auto = uniqueName('allow_autoid');
      assertOk(await createCollection(client, {
        collection_name: auto,
        fields: [{ name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: true }, fields[1]],
      }));
      assertOk(await client.alterCollectionProperties({ collection_name: auto, properties: { allow_insert_auto_id: true } }));
      await loadCollection(client, auto);
      const inserted = await insertRows(client, auto, [{ id: 7, vector: vectorFor(7) }, { id: 8, vector: vectorFor(8) }]);
      assert.deepEqual(mutationIds(inserted), ['7', '8']);
      assert.equal(await countRows(client, auto, { filter: 'id in [7, 8]' }), 2);
    });

    test('upsert without the primary key', async () => {
      const { id, ...withoutId } = goodColumns([100]);
      await assertRawRefused(withoutId, { code: Code.ParameterInvalid, reason: /pk|primary|id/i }, 'upsert without id',
        { method: 'Upsert' });
    });
  });

  describe('requests', () => {
    test('an insert into a collection that does not exist', async () => {
      const response = await rawInsert(client, uniqueName('missing'), 1, Object.values(goodColumns([1])));
      assertError(response, { code: Code.CollectionNotFound }, 'insert into a missing collection');
    });

    test(`a request larger than proxy.maxMessageSize (${MAX_MESSAGE_BYTES} bytes) is refused`, async () => {
      // About 100 bytes a row on the wire: 20,000 rows are about twice the limit.
      const rows = range(1000, 20_000).map((id) => row(id, { name: 'n'.repeat(16), tags: ['abcdefgh', 'abcdefgh', 'abcdefgh', 'abcdefgh'] }));
      let refused;
      try {
        const response = await client.insert({ collection_name: name, data: rows });
        refused = response.status.error_code !== 'Success';
      } catch (error) {
        refused = /RESOURCE_EXHAUSTED|larger than max|too large|message length/i.test(String(error?.message ?? error));
        assert.ok(refused, `unexpected failure: ${error?.message ?? error}`);
      }
      assert.ok(refused, 'an oversized insert must be refused');
      assert.ok(server.isRunning(), 'quiver died on an oversized request');
      await assertUnchanged();
    });

    test('after all of this, good writes still work', async () => {
      await insertRows(client, name, [row(500), row(501)]);
      expectedCount += 2;
      await assertUnchanged();
      assertOk(await client.delete({ collection_name: name, ids: [500, 501] }));
      expectedCount -= 2;
      await assertUnchanged();
    });
  });
});
