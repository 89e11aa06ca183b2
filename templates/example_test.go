package templates_test

import (
	"fmt"
	"log"
	"time"

	"github.com/trackhook/trackhook/templates"
)

func ExampleSet_Render() {
	set, err := templates.New(templates.Options{DefaultLanguage: "en"})
	if err != nil {
		log.Fatal(err)
	}

	// The tracking says "de-AT"; there is no Austrian catalog, so German.
	locale := set.Locale("de-AT", "AUT")

	d := templates.Data{
		TrackingNumber:     "00340434161094042557",
		CarrierSlug:        "dhl",
		CarrierName:        "DHL Paket",
		TrackingURL:        "https://track.example.com/dhl/00340434161094042557",
		OrderNumber:        "1001",
		CustomerName:       "Kim Berger",
		ShopName:           "Bergwerk",
		Status:             "OutForDelivery",
		CheckpointMessage:  "In Zustellung",
		CheckpointLocation: "Wien, AT",
		CheckpointTime:     time.Date(2026, 11, 20, 7, 5, 0, 0, time.UTC),
	}
	sms, err := set.Render(templates.KindSMS, d.Status, locale, d)
	if err != nil {
		log.Fatal(err)
	}
	email, err := set.Render(templates.KindEmail, d.Status, locale, d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sms.Locale)
	fmt.Println(sms.Text)
	fmt.Println()
	fmt.Println("Subject:", email.Subject)
	fmt.Print(email.Text)
	// Output:
	// de
	// Bergwerk: Ihre Sendung 00340434161094042557 (DHL Paket) zur Bestellung 1001 wird heute zugestellt. https://track.example.com/dhl/00340434161094042557
	//
	// Subject: Ihre Sendung 00340434161094042557 wird heute zugestellt
	// Ihre Sendung wird heute zugestellt
	//
	// Guten Tag Kim Berger,
	//
	// Ihre Sendung ist in der Zustellung und kommt voraussichtlich heute bei Ihnen an. Bitte sorgen Sie dafür, dass jemand sie entgegennehmen kann.
	//
	// Sendungsnummer: 00340434161094042557
	// Versanddienstleister: DHL Paket
	// Bestellung: 1001
	//
	// Letzte Aktualisierung: In Zustellung
	// Wien, AT · 20.11.2026, 07:05 Uhr (UTC)
	//
	// Sendung verfolgen: https://track.example.com/dhl/00340434161094042557
	//
	// Mit freundlichen Grüßen
	// Bergwerk
	//
	// Dies ist eine automatische Benachrichtigung von Bergwerk zu Ihrer Sendung.
}
