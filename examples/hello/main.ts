import { createNode } from 'agentnode';

const node = await createNode({ database: ':memory:', containers: false });

node.tools.register({
  key: 'local:::hello:::greet',
  kind: 'function',
  description: 'Greets someone.',
  parameters: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
  handler: ({ name }) => `Hello, ${name as string}!`,
});

node.tools.register({
  key: 'local:::hello:::shout',
  kind: 'function',
  parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  handler: ({ text }) => (text as string).toUpperCase(),
});

const results = await node.executeMany([
  { id: 'greeting', key: 'local:::hello:::greet', params: { name: 'Ada' } },
  {
    id: 'loud',
    key: 'local:::hello:::shout',
    dependsOn: ['greeting'],
    params: (outputs) => ({ text: outputs.greeting as string }),
  },
  { id: 'bad', key: 'local:::hello:::greet', params: { name: 42 } },
]);

for (const result of results) {
  console.log(
    result.id,
    result.ok ? result.value : `${result.error.code}: ${result.error.message}`,
  );
}
await node.close();
