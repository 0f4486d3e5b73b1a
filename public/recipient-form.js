// The recipient form's progressive enhancement (views/admin/recipient-edit.hbs): the salutation in the
// recipient's own language is the required one, so its "(required)" marker follows the language list as
// it changes, and the field of a language the form did not show (German, say) appears when chosen.
// Without script the markers are those of the language the page was shown with, and the server says
// beside the field which salutation is missing (showing it) after a submit.
const language = document.getElementById('field-language');
const salutations = document.querySelectorAll('[data-salutation-language]');
if (language && salutations.length > 0) {
  const mark = () => {
    for (const field of salutations) {
      const own = field.dataset.salutationLanguage === language.value;
      if (own) field.hidden = false;
      field.querySelector('.req').hidden = !own;
      field.querySelector('.opt').hidden = own;
    }
  };
  language.addEventListener('change', mark);
  mark();
}
