// The built-in channels. Adding one: write its module, then list it here.
import memory from './memory.js';
import kafka from './kafka.js';
import file from './file/index.js';
import spillableMemory from './spillable-memory.js';
import jdbc from './jdbc.js';

export default [memory, kafka, file, spillableMemory, jdbc];
