// awrsr's embeddable widget and page API, the ES module that lives in the package beside
// client.js:
//
//   <script>window.awrsr = window.awrsr || []; awrsr.push(['view', 'SKU-1']);</script>
//   <script type="module" src="/static/awrsr/awrsr-widget.js"></script>
//   <awrsr-recommendations model="/static/awrsr/model.awrsr" k="8" loading="lazy"></awrsr-recommendations>
//
// It defines <awrsr-recommendations>, keeps the visitor's session (localStorage only),
// replays the `awrsr` command queue a classic script may have filled before this module
// loaded, and exports the helpers the demo storefront shares. Recommendations are computed
// in this browser, in a Worker where one exists (client.js); after the engine, the model and
// the shop's catalogue have loaded, nothing here makes a network request.
//
// This file only assembles: the widget's parts are the modules in widget/, one a concern,
// none with side effects, their state in one object (widget/store.js):
//
//   settings.js   config(): the package folder, backend, worker mode, A/B split
//   session.js    the visitor's session; views, and ids the model does not know
//   engine.js     loading client.js and models, once each; download progress
//   catalogue.js  the shop's catalogue (titles, safe links, images) and the model's titles: nameOf
//   ab.js         the A/B split: arms, drawn once per visitor and experiment
//   analytics.js  shown and clicked ids, conversions
//   render.js     drawing helpers shared with the demo; cards.js a widget's cards; style.js its stylesheet
//   element.js    <awrsr-recommendations> and how rails update
//   api.js        the `awrsr` global and its command queue
//
// The side effects are all here, below the imports: the `awrsr` global, two document
// listeners and the element's definition.
import { view } from './widget/session.js';
import { installGlobal } from './widget/api.js';
import { AwrsrRecommendations, updateAll } from './widget/element.js';

export { config } from './widget/settings.js';
export { session, view } from './widget/session.js';
export { loadModel, progressFraction } from './widget/engine.js';
export { catalogue, loadCatalogue, product, safeUrl, nameOf } from './widget/catalogue.js';
export { variant } from './widget/ab.js';
export { convert } from './widget/analytics.js';
export { el, becauseText, cover, keepFocus, updateMessage } from './widget/render.js';
export { AwrsrRecommendations } from './widget/element.js';
export { push, forget, api } from './widget/api.js';


document.addEventListener('awrsr:session', updateAll);
installGlobal();
document.addEventListener('awrsr:view', (event) => view(event.detail?.id));
if (!customElements.get('awrsr-recommendations')) customElements.define('awrsr-recommendations', AwrsrRecommendations);
