package optout

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// texts is every sentence of the unsubscribe pages in one language. A field
// with %s gets the (masked) address. A struct rather than a map, so a
// missing translation is a compile error, not a blank on the page; a test
// checks that no field is empty.
type texts struct {
	Title       string // page title and heading of the confirmation page
	Confirm     string // %s: address
	Choose      string
	OnlyThis    string // button, scope=tracking
	AllShipment string // button, scope=all
	DoneTitle   string
	DoneAll     string // %s: address
	DoneThis    string // %s: address
	AlsoAll     string // offered after scope=tracking
	BadTitle    string // bad or incomplete link (404), bad request (400)
	BadBody     string
	ErrTitle    string // store unavailable (503)
	ErrBody     string
}

// locales are the page languages, English first: it is the default.
var locales = []struct {
	tag   language.Tag
	texts texts
}{
	{language.English, texts{
		Title:       "Unsubscribe from shipment notifications",
		Confirm:     "Stop sending shipment notifications to %s?",
		Choose:      "You can stop the messages about this shipment only, or about all your shipments.",
		OnlyThis:    "Only this shipment",
		AllShipment: "All shipments",
		DoneTitle:   "You are unsubscribed",
		DoneAll:     "We will no longer send shipment notifications to %s.",
		DoneThis:    "We will no longer send notifications about this shipment to %s.",
		AlsoAll:     "Stop notifications about all your other shipments too?",
		BadTitle:    "This link does not work",
		BadBody:     "The unsubscribe link is incomplete or not valid. Please open the link from your latest notification again.",
		ErrTitle:    "Please try again",
		ErrBody:     "We could not save your choice just now. Please try again in a few minutes.",
	}},
	{language.German, texts{
		Title:       "Versandbenachrichtigungen abbestellen",
		Confirm:     "Keine Versandbenachrichtigungen mehr an %s senden?",
		Choose:      "Sie können die Nachrichten nur für diese Sendung oder für alle Ihre Sendungen abbestellen.",
		OnlyThis:    "Nur diese Sendung",
		AllShipment: "Alle Sendungen",
		DoneTitle:   "Sie sind abgemeldet",
		DoneAll:     "Wir senden keine Versandbenachrichtigungen mehr an %s.",
		DoneThis:    "Wir senden keine Benachrichtigungen zu dieser Sendung mehr an %s.",
		AlsoAll:     "Auch die Benachrichtigungen zu allen anderen Sendungen abbestellen?",
		BadTitle:    "Dieser Link funktioniert nicht",
		BadBody:     "Der Abmeldelink ist unvollständig oder ungültig. Bitte öffnen Sie den Link aus Ihrer letzten Benachrichtigung noch einmal.",
		ErrTitle:    "Bitte versuchen Sie es erneut",
		ErrBody:     "Ihre Auswahl konnte gerade nicht gespeichert werden. Bitte versuchen Sie es in ein paar Minuten noch einmal.",
	}},
	{language.French, texts{
		Title:       "Se désabonner des notifications de livraison",
		Confirm:     "Ne plus envoyer de notifications de livraison à %s\u00a0?",
		Choose:      "Vous pouvez arrêter les messages concernant cet envoi uniquement, ou tous vos envois.",
		OnlyThis:    "Cet envoi uniquement",
		AllShipment: "Tous les envois",
		DoneTitle:   "Votre désabonnement est confirmé",
		DoneAll:     "Nous n’enverrons plus de notifications de livraison à %s.",
		DoneThis:    "Nous n’enverrons plus de notifications concernant cet envoi à %s.",
		AlsoAll:     "Arrêter aussi les notifications pour tous vos autres envois\u00a0?",
		BadTitle:    "Ce lien ne fonctionne pas",
		BadBody:     "Le lien de désabonnement est incomplet ou n’est pas valide. Veuillez rouvrir le lien de votre dernière notification.",
		ErrTitle:    "Veuillez réessayer",
		ErrBody:     "Nous n’avons pas pu enregistrer votre choix pour le moment. Veuillez réessayer dans quelques minutes.",
	}},
	{language.Spanish, texts{
		Title:       "Darse de baja de las notificaciones de envío",
		Confirm:     "¿Dejar de enviar notificaciones de envío a %s?",
		Choose:      "Puede dejar de recibir los mensajes solo de este envío o de todos sus envíos.",
		OnlyThis:    "Solo este envío",
		AllShipment: "Todos los envíos",
		DoneTitle:   "Se ha dado de baja",
		DoneAll:     "Ya no enviaremos notificaciones de envío a %s.",
		DoneThis:    "Ya no enviaremos notificaciones sobre este envío a %s.",
		AlsoAll:     "¿Dejar de recibir también las notificaciones de todos sus demás envíos?",
		BadTitle:    "Este enlace no funciona",
		BadBody:     "El enlace para darse de baja está incompleto o no es válido. Vuelva a abrir el enlace de su última notificación.",
		ErrTitle:    "Inténtelo de nuevo",
		ErrBody:     "No hemos podido guardar su elección en este momento. Vuelva a intentarlo en unos minutos.",
	}},
}

// maxAcceptLanguage bounds the header we parse; real ones are short.
const maxAcceptLanguage = 256

// pageLanguage picks the locale for r from Accept-Language. It returns an
// index into locales; English (0) unless a locale matches with at least
// high confidence ("de-DE" → de, "fr-CA" → fr, "es-419" → es).
func pageLanguage(m language.Matcher, r *http.Request) int {
	al := strings.TrimSpace(r.Header.Get("Accept-Language"))
	if al == "" || len(al) > maxAcceptLanguage {
		return 0
	}
	tags, _, err := language.ParseAcceptLanguage(al)
	if err != nil || len(tags) == 0 {
		return 0
	}
	_, i, conf := m.Match(tags...)
	if conf < language.High {
		return 0
	}
	return i
}

func newMatcher() language.Matcher {
	tags := make([]language.Tag, len(locales))
	for i, l := range locales {
		tags[i] = l.tag
	}
	return language.NewMatcher(tags)
}
