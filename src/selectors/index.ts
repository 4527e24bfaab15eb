// The built-in channel selectors. Adding one: write its module, then list it here.
import replicating from './replicating.js';

export default [replicating];
