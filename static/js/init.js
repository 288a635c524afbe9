// Initialise GOV.UK Frontend components. Loaded as an ES module:
//   <script type="module" src="{% static 'js/init.js' %}"></script>
// No inline script is needed (strict CSP).
import { initAll } from '../govuk/js/govuk-frontend.min.js'

document.body.classList.add('govuk-frontend-supported')
initAll()

// "Print this page" buttons (the briefing pack) are hidden in the HTML, as
// they can do nothing without this script.
for (const button of document.querySelectorAll('[data-app-print]')) {
  button.hidden = false
  button.addEventListener('click', () => window.print())
}
