// The built-in sink processors (sink groups). Adding one: write its module, then list it here.
import defaultProcessor from './default.js';

export default [defaultProcessor];
