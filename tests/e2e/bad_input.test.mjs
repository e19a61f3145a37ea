// Bad input answers Milvus's error and changes nothing. Schemas go through rawCreateCollection
// so that the server, not the SDK's client-side checks, is what rejects them.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startQuiver } from './harness.mjs';
import {
  Code, DataType, assertError, assertOk, createCollection, describe as describeCollection,
  describeSnapshot, listCollectionNames, rawCall, rawCreateCollection, simpleFields, uniqueName,
} from './milvus.mjs';

const pk = { name: 'id', data_type: DataType.Int64, is_primary_key: true };
const vector = (dim, data_type = DataType.FloatVector) => ({ name: 'vector', data_type, dim });

describe('bad input', () => {
  let server;
  let client;
  const baseline = 'baseline';
  let state;

  // Everything a user could look at: databases, collections per database, and the baseline.
  async function snapshot() {
    const databases = [...assertOk(await client.listDatabases()).db_names].sort();
    const collections = {};
    for (const db of databases) collections[db] = await listCollectionNames(client, db);
    return { databases, collections, baseline: await describeSnapshot(client, baseline) };
  }

  before(async () => {
    server = await startQuiver();
    client = await server.client();
    assertOk(await createCollection(client, { collection_name: baseline, fields: simpleFields(8) }));
  });
  beforeEach(async () => {
    state = await snapshot();
  });
  after(() => server?.cleanup());

  async function assertUnchanged() {
    assert.deepEqual(await snapshot(), state, 'bad input changed the server state');
  }

  async function assertRejected(request, expected, what) {
    assertError(await rawCreateCollection(client, request), expected, what);
    await assertUnchanged();
  }

  describe('collection names', () => {
    const badNames = [
      ['an empty name', ''],
      ['a blank name', '   '],
      ['a name starting with a digit', '1collection'],
      ['a name with a dash', 'bad-name'],
      ['a name with a space', 'bad name'],
      ['a name with a dot', 'bad.name'],
      ['a non-ASCII name', 'collección'],
      ['a name longer than 255 characters', 'c'.repeat(256)],
    ];
    for (const [what, name] of badNames) {
      test(`${what} is refused`, async () => {
        await assertRejected({ collection_name: name, fields: simpleFields() },
          { code: Code.ParameterInvalid }, `CreateCollection("${name.slice(0, 20)}")`);
      });
    }

    test('a 255-character name and a leading underscore are fine', async () => {
      for (const name of ['c'.repeat(255), '_leading_underscore']) {
        assertOk(await createCollection(client, { collection_name: name, fields: simpleFields() }));
        assertOk(await client.dropCollection({ collection_name: name }));
      }
      await assertUnchanged();
    });

    test('describe with an invalid name is refused', async () => {
      assertError(await client.describeCollection({ collection_name: '1bad' }), { code: Code.ParameterInvalid });
    });
  });

  describe('duplicates', () => {
    test('creating an identical collection again succeeds and keeps the original', async () => {
      const request = { collection_name: baseline, fields: simpleFields(8) };
      assertOk(await createCollection(client, request), 'identical re-create (Milvus treats it as a no-op)');
      await assertUnchanged();
    });

    test('creating an existing name with a different schema fails', async () => {
      assertError(await createCollection(client, { collection_name: baseline, fields: simpleFields(16) }),
        { code: Code.ParameterInvalid, reason: /duplicate|exist/i });
      await assertUnchanged();
    });
  });

  describe('schemas', () => {
    test('no primary key', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [{ name: 'id', data_type: DataType.Int64 }, vector(8)] },
        { reason: /primary/i }, 'no primary key');
    });

    test('two primary keys', async () => {
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [pk, { name: 'id2', data_type: DataType.Int64, is_primary_key: true }, vector(8)],
      }, { reason: /primary/i }, 'two primary keys');
    });

    test('a primary key of a type that cannot be one', async () => {
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [{ name: 'id', data_type: DataType.Float, is_primary_key: true }, vector(8)],
      }, { reason: /primary/i }, 'Float primary key');
    });

    test('no vector field', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, { name: 'n', data_type: DataType.Int32 }] },
        { reason: /vector/i }, 'no vector field');
    });

    test('more than four vector fields', async () => {
      const vectors = [1, 2, 3, 4, 5].map((i) => ({ name: `v${i}`, data_type: DataType.FloatVector, dim: 4 }));
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, ...vectors] },
        { reason: /vector/i }, 'five vector fields');
    });

    for (const dim of [0, -1, 1, 32769, 100000]) {
      test(`FloatVector dim ${dim} is refused`, async () => {
        await assertRejected({ collection_name: uniqueName('c'), fields: [pk, vector(dim)] },
          { reason: /dim/i }, `dim ${dim}`);
      });
    }

    test('a vector without dim is refused', async () => {
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [pk, { name: 'vector', data_type: DataType.FloatVector }],
      }, { reason: /dim/i }, 'missing dim');
    });

    test('a non-numeric dim is refused', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, vector('eight')] }, {}, 'dim "eight"');
    });

    test('dim 32768 is the largest accepted', async () => {
      const name = uniqueName('widest');
      assertOk(await createCollection(client, { collection_name: name, fields: [pk, vector(32768)] }));
      assertOk(await client.dropCollection({ collection_name: name }));
      await assertUnchanged();
    });

    test('a binary vector dim that is not a multiple of 8 is refused', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, vector(12, DataType.BinaryVector)] },
        { reason: /dim/i }, 'binary dim 12');
    });

    test('a half-precision vector dim above 32768 is refused', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, vector(40000, DataType.Float16Vector)] },
        { reason: /dim/i }, 'float16 dim 40000');
    });

    test('a sparse vector with a dim is refused', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: [pk, vector(8, DataType.SparseFloatVector)] },
        { reason: /dim/i }, 'sparse with dim');
    });

    test('VarChar without max_length, or with one out of range', async () => {
      for (const [what, extra] of [['missing', {}], ['zero', { max_length: 0 }], ['above 65535', { max_length: 65536 }]]) {
        await assertRejected({
          collection_name: uniqueName('c'),
          fields: [pk, vector(8), { name: 'text', data_type: DataType.VarChar, ...extra }],
        }, { reason: /max_length|length/i }, `max_length ${what}`);
      }
    });

    test('Array without max_capacity, with one out of range, or of an unsupported element', async () => {
      const arrays = [
        ['without max_capacity', { element_type: DataType.Int32 }],
        ['with max_capacity 4097', { element_type: DataType.Int32, max_capacity: 4097 }],
        ['without element type', { max_capacity: 4 }],
        ['of JSON', { element_type: DataType.JSON, max_capacity: 4 }],
        ['of VarChar without max_length', { element_type: DataType.VarChar, max_capacity: 4 }],
      ];
      for (const [what, extra] of arrays) {
        await assertRejected({
          collection_name: uniqueName('c'),
          fields: [pk, vector(8), { name: 'list', data_type: DataType.Array, ...extra }],
        }, {}, `Array ${what}`);
      }
    });

    test('invalid and duplicate field names', async () => {
      for (const fields of [
        [pk, vector(8), { name: '1field', data_type: DataType.Int32 }],
        [pk, vector(8), { name: 'bad-field', data_type: DataType.Int32 }],
        [pk, vector(8), { name: '', data_type: DataType.Int32 }],
        [pk, vector(8), { name: 'vector', data_type: DataType.Int32 }],
        [pk, vector(8), { name: '$meta', data_type: DataType.JSON }],
      ]) {
        await assertRejected({ collection_name: uniqueName('c'), fields }, {}, `field "${fields[2].name}"`);
      }
    });

    test('a partition key on the primary key or with num_partitions out of range', async () => {
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [{ ...pk, is_partition_key: true }, vector(8)],
      }, {}, 'partition key on the primary key');
      for (const numPartitions of [-1, 1025]) {
        await assertRejected({
          collection_name: uniqueName('c'),
          num_partitions: numPartitions,
          fields: [pk, vector(8), { name: 'tenant', data_type: DataType.Int64, is_partition_key: true }],
        }, {}, `num_partitions ${numPartitions}`);
      }
    });

    test('a nullable primary key or a default value that does not fit', async () => {
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [{ ...pk, nullable: true }, vector(8)],
      }, {}, 'nullable primary key');
      await assertRejected({
        collection_name: uniqueName('c'),
        fields: [pk, vector(8), { name: 's', data_type: DataType.VarChar, max_length: 3, default_value: 'too long' }],
      }, {}, 'default longer than max_length');
    });

    test('an invalid collection TTL property', async () => {
      for (const ttl of ['abc', '-2']) {
        await assertRejected({
          collection_name: uniqueName('c'), fields: simpleFields(), properties: { 'collection.ttl.seconds': ttl },
        }, { code: Code.ParameterInvalid, reason: /ttl/i }, `collection.ttl.seconds ${ttl}`);
      }
    });

    test('more shards than Milvus allows', async () => {
      await assertRejected({ collection_name: uniqueName('c'), fields: simpleFields(), shards_num: 17 },
        { reason: /shard/i }, 'shards_num 17');
    });

    test('the schema name must match the collection name', async () => {
      const request = { collection_name: uniqueName('c'), fields: simpleFields() };
      const schemaTypes = {
        collectionSchemaType: client.schemaProto.lookupType(client.protoInternalPath.collectionSchema),
      };
      const schema = schemaTypes.collectionSchemaType.encode(schemaTypes.collectionSchemaType.create({
        name: 'someone_else',
        fields: [],
      })).finish();
      assertError(await rawCall(client, 'CreateCollection', { collection_name: request.collection_name, schema }));
      assertError(await rawCall(client, 'CreateCollection', {
        collection_name: uniqueName('c'), schema: Buffer.from('not a protobuf'),
      }), {}, 'garbage schema bytes');
      await assertUnchanged();
    });
  });

  describe('unknown names', () => {
    test('describe of a missing collection is "collection not found" (code 100)', async () => {
      const missing = uniqueName('missing');
      const status = assertError(await client.describeCollection({ collection_name: missing }),
        { code: Code.CollectionNotFound });
      assert.match(status.reason, new RegExp(missing));
    });

    test('dropping a missing collection is a no-op, as in Milvus', async () => {
      assertOk(await client.dropCollection({ collection_name: uniqueName('missing') }));
      await assertUnchanged();
    });

    test('rename, alter and statistics of a missing collection fail with code 100', async () => {
      const missing = uniqueName('missing');
      assertError(await client.renameCollection({ collection_name: missing, new_collection_name: uniqueName('x') }),
        { code: Code.CollectionNotFound });
      assertError(await client.alterCollectionProperties({
        collection_name: missing, properties: { 'collection.ttl.seconds': 5 },
      }), { code: Code.CollectionNotFound });
      assertError(await client.getCollectionStatistics({ collection_name: missing }), { code: Code.CollectionNotFound });
      await assertUnchanged();
    });

    test('an unknown database is "database not found" (code 800)', async () => {
      const missing = uniqueName('no_db');
      assertError(await createCollection(client, { collection_name: uniqueName('c'), fields: simpleFields(), db_name: missing }),
        { code: Code.DatabaseNotFound });
      assertError(await client.describeCollection({ collection_name: baseline, db_name: missing }),
        { code: Code.DatabaseNotFound });
      await assertUnchanged();
    });

    test('an unknown alias is "alias not found" (code 1600)', async () => {
      const ghost = uniqueName('ghost');
      assertError(await client.describeAlias({ alias: ghost, collection_name: baseline }), { code: Code.AliasNotFound });
      assertError(await client.alterAlias({ alias: ghost, collection_name: baseline }), { code: Code.AliasNotFound });
      assertError(await client.describeCollection({ collection_name: ghost }), { code: Code.CollectionNotFound });
      await assertUnchanged();
    });

    test('alter with an invalid property value is refused', async () => {
      for (const ttl of ['abc', '-2']) {
        assertError(await client.alterCollectionProperties({
          collection_name: baseline, properties: { 'collection.ttl.seconds': ttl },
        }), { code: Code.ParameterInvalid, reason: /ttl/i }, `alter collection.ttl.seconds ${ttl}`);
      }
      await assertUnchanged();
    });
  });

  test('the baseline collection is still intact', async () => {
    const info = await describeCollection(client, baseline);
    assert.deepEqual(info.schema.fields.map((f) => f.name), ['id', 'vector']);
    assert.equal(info.schema.fields[1].dim, '8');
  });
});
