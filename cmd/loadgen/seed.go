package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"time"
)

// DemoPassword is the password of every demo account `loadgen seed` makes.
const DemoPassword = "Demo-pass-2026"

type demoPerson struct {
	email, first, last, org, industry, city string
}

var demoPeople = []demoPerson{
	{"sara@demo.p2p.local", "Sara", "Ahmed", "Advanced Electronics Co.", "Electronics Manufacturing", "Jeddah"},
	{"mohammed@demo.p2p.local", "Mohammed", "Al-Shahri", "Gulf Plastics Industries", "Plastics Manufacturing", "Riyadh"},
	{"fatima@demo.p2p.local", "Fatima", "Al-Otaibi", "Eastern Steel Works", "Metal Processing", "Dammam"},
}

type demoTopic struct {
	by                    int
	title, category, kind string
	content               string
	tags                  []string
	replies               []demoReply
	likedBy               []int
	bestReply             int // index into replies + 1; 0 for none
}

type demoReply struct {
	by      int
	content string
	parent  int // index into replies + 1; 0 for the topic
}

var demoTopics = []demoTopic{
	{by: 0, kind: "question", category: "automation", tags: []string{"sensors", "oee"},
		title:   "How to improve production line efficiency using sensors?",
		content: "We're facing downtime on **line 4**. Which sensors gave you the quickest wins?\n\n- vibration\n- temperature\n- current draw",
		replies: []demoReply{
			{by: 1, content: "Vibration sensors on the motors first: we cut unplanned stops by 30% in three months."},
			{by: 0, parent: 1, content: "Which vendor did you use, and how did you connect them to the PLC?"},
			{by: 2, content: "Current draw is cheap to start with and tells you a lot about conveyor load."},
		}, likedBy: []int{1, 2}, bestReply: 1},
	{by: 2, kind: "discussion", category: "maintenance", tags: []string{"صيانة", "مضخات"},
		title:   "صيانة المضخات قبل الصيف: ما هي خطتكم؟",
		content: "نحتاج إلى خطة لصيانة **المضخة** الرئيسية قبل ارتفاع درجات الحرارة. ما الذي نجح لديكم؟",
		replies: []demoReply{
			{by: 1, content: "نفحص الحساسات أسبوعياً ونغيّر الزيت كل ٥٠٠ ساعة تشغيل."},
			{by: 0, content: "We moved pump maintenance to the night shift; energy use dropped 8%."},
		}, likedBy: []int{0}},
	{by: 1, kind: "question", category: "quality-management", tags: []string{"iso-9001"},
		title:   "Preparing for an ISO 9001 surveillance audit",
		content: "Our audit is in six weeks. What did auditors ask you about most?",
		replies: []demoReply{
			{by: 2, content: "Corrective actions and how you measured that they worked."},
		}},
	{by: 0, kind: "discussion", category: "artificial-intelligence", tags: []string{"vision", "defects"},
		title:   "Computer vision for defect detection on a small budget",
		content: "Has anyone deployed a camera-based inspection under 100,000 SAR? Looking for real numbers.",
		likedBy: []int{1, 2}},
}

// runSeed fills a development server with demo people, forum content and use cases, once: a server that
// already has the demo people is left as it is. The server must serve /dev/outbox (make run).
func runSeed(args []string) error {
	fs := flag.NewFlagSet("seed", flag.ExitOnError)
	base := fs.String("url", "http://127.0.0.1:8080", "the server")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := &http.Client{Timeout: 30 * time.Second}
	if _, err := demoSignIn(c, *base, demoPeople[0].email); err == nil {
		fmt.Println("seed: the demo people exist already; nothing to do")
		return nil
	}
	tokens := make([]string, len(demoPeople))
	for i, p := range demoPeople {
		tok, err := demoSignUp(c, *base, p)
		if err != nil {
			return fmt.Errorf("signing up %s: %w", p.email, err)
		}
		if _, tokens[i], err = confirm(c, *base, p.email, tok); err != nil {
			return fmt.Errorf("confirming %s: %w", p.email, err)
		}
	}
	post := func(who int, path string, body any) (string, error) {
		b, _ := json.Marshal(body)
		res, err := authed(c, http.MethodPost, *base+path, tokens[who], b)
		if err != nil {
			return "", err
		}
		var out struct{ ID string }
		return out.ID, json.Unmarshal(res.body, &out)
	}
	for _, t := range demoTopics {
		id, err := post(t.by, "/api/v1/forum/topics", map[string]any{"title": t.title, "content": t.content,
			"category": t.category, "kind": t.kind, "tags": t.tags})
		if err != nil {
			return fmt.Errorf("posting %q: %w", t.title, err)
		}
		replies := make([]string, len(t.replies))
		for i, r := range t.replies {
			body := map[string]any{"content": r.content}
			if r.parent > 0 {
				body["parentId"] = replies[r.parent-1]
			}
			if replies[i], err = post(r.by, "/api/v1/forum/topics/"+id+"/replies", body); err != nil {
				return fmt.Errorf("replying to %q: %w", t.title, err)
			}
		}
		for _, who := range t.likedBy {
			if _, err := authed(c, http.MethodPut, *base+"/api/v1/forum/topics/"+id+"/like", tokens[who], nil); err != nil {
				return err
			}
		}
		if t.bestReply > 0 {
			b, _ := json.Marshal(map[string]string{"replyId": replies[t.bestReply-1]})
			if _, err := authed(c, http.MethodPut, *base+"/api/v1/forum/topics/"+id+"/best-answer", tokens[t.by], b); err != nil {
				return err
			}
		}
	}
	published, err := seedUseCases(c, *base, tokens)
	if err != nil {
		return err
	}
	fmt.Printf("seed: %d demo people (password %s: %s, …), %d forum topics and %d published use cases\n",
		len(demoPeople), DemoPassword, demoPeople[0].email, len(demoTopics), published)
	return nil
}

func form(fields map[string]string) []byte {
	var ff []map[string]string
	for id, v := range fields {
		ff = append(ff, map[string]string{"id": id, "value": v})
	}
	b, _ := json.Marshal(map[string]any{"formFields": ff})
	return b
}

func demoSignUp(c *http.Client, base string, p demoPerson) (string, error) {
	return formAuth(c, base+"/auth/signup", form(map[string]string{
		"email": p.email, "password": DemoPassword, "firstName": p.first, "lastName": p.last,
		"organizationName": p.org, "industry": p.industry, "organizationSize": "medium",
		"country": "Saudi Arabia", "city": p.city,
	}))
}

func demoSignIn(c *http.Client, base, email string) (string, error) {
	return formAuth(c, base+"/auth/signin", form(map[string]string{"email": email, "password": DemoPassword}))
}

// formAuth posts a SuperTokens form (sign-up, sign-in) in header mode and returns the access
// token.
func formAuth(c *http.Client, u string, body []byte) (string, error) {
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("st-auth-mode", "header")
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ Status string }
	_ = json.NewDecoder(res.Body).Decode(&out)
	tok := res.Header.Get("st-access-token")
	if res.StatusCode != http.StatusOK || out.Status != "OK" || tok == "" {
		return "", errors.New(res.Status + " " + out.Status)
	}
	return tok, nil
}
