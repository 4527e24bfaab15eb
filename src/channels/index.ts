// The built-in channels. Adding one: write its module, then list it here.
import memory from './memory.js';
import kafka from './kafka.js';
import file from './file/index.js';
import spillableMemory from './spillable-memory.js';

export default [memory, kafka, file, spillableMemory];
