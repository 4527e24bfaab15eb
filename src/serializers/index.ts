// The built-in event serializers. Adding one: write its module, then list it here.
import text from './text.js';
import headerAndText from './header-and-text.js';
import avroEvent from './avro-event.js';

export default [text, headerAndText, avroEvent];
