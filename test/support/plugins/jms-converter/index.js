// A test JMS converter (`converter.type = com.example.UpperCaseConverter`): the body in
// upper case, the message's seq property and a `converted` header (from converter.tag);
// a message whose color is "blue" becomes no event; one whose seq is 7 is refused.
import { createEvent, defineJmsConverter, opt } from '../../../../dist/src/plugin-api/index.js';

export default defineJmsConverter({
  type: 'upper',
  description: 'Upper-cases text bodies.',
  options: { tag: opt.requiredString('The value of the converted header.') },
  create({ options }) {
    return {
      convert(m) {
        if (m.headers.seq === '7') throw new Error('seven is refused');
        if (m.headers.color === 'blue') return [];
        return [createEvent(Buffer.from(m.body.toString('utf8').toUpperCase()), { seq: m.headers.seq, converted: options.tag, text: String(m.text) })];
      },
    };
  },
});
